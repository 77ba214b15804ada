"""The painting page: a local web page where a person paints a label map in the model's classes and sees
the picture the model makes of it (``python -m semsyn.app checkpoints/<name>``).

The standard library serves it (server.py) and the page is plain HTML/CSS/JS (static/): no extra
package to install, nothing loaded from the network. ``PaintingApp`` (painting.py) is the model behind
it, on top of ``semsyn.Synthesizer``."""
from .painting import PaintingApp
from .server import PaintingServer

__all__ = ['PaintingApp', 'PaintingServer']
