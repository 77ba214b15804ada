"""The local web server of the painting page: the static page and a small JSON/PNG API.

    GET  /                      the page (static/index.html, then its script and style sheet)
    GET  /api/info              the model: name, size, classes with colours and names, the eraser's class,
                                style controls (use_vae, seed), what the examples are
    GET  /api/example?index=k   class ids of example k: {"width", "height", "ids": [row-major]}
    POST /api/label_map         {"image": data URL, "palette": "semsyn"} -> class ids of an uploaded label map
                                of any size at the model's size, and its own: "source_width", "source_height"
    POST /api/synthesize        {"label": data URL, "style": data URL, "seed": k, "output_size": "label"} ->
                                image/png; or a PNG body (?seed=k&output_size=model):
                                curl --data-binary @map.png -H 'Content-Type: image/png' URL
                                A label map of any size; the picture at its size ("label", the default) or
                                at the model's ("model").

Bad input is a 400 with {"error": "<one line>"}.
"""
import json
import sys
import traceback
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from ..errors import UserError, one_line
from ..visual import png_bytes
from .codec import decode_image
from .painting import PAINTED, PaintingApp, ids_payload

STATIC = Path(__file__).with_name('static')
MAX_BODY = 32 * 2 ** 20  # bytes; a label map and a style photo as data URLs fit many times over
CONTENT_TYPES = {'.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8',
                 '.css': 'text/css; charset=utf-8', '.svg': 'image/svg+xml', '.png': 'image/png'}
# The page loads nothing from elsewhere, so it works offline; the policy keeps it that way.
PAGE_POLICY = "default-src 'self'; img-src 'self' data: blob:; object-src 'none'; base-uri 'none'; form-action 'none'"
JSON = 'application/json'


class HTTPError(Exception):
    def __init__(self, status: HTTPStatus, message: str):
        super().__init__(message)
        self.status = status


class PaintingServer(ThreadingHTTPServer):
    daemon_threads = True  # a stalled browser connection does not keep the process alive

    def __init__(self, app: PaintingApp, host: str, port: int):
        self.app = app
        try:
            super().__init__((host, port), Handler)
        except (OSError, OverflowError) as exc:
            raise UserError(f'cannot serve on {host}:{port}: {getattr(exc, "strerror", None) or exc}') from None

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f'http://{"127.0.0.1" if host == "0.0.0.0" else host}:{port}/'


class Handler(BaseHTTPRequestHandler):
    server_version = 'semsyn-app'

    def do_GET(self):
        self.respond(self.get)

    def do_POST(self):
        self.respond(self.post)

    def log_message(self, format, *args):
        pass  # one line per request would drown the URL; failures print their traceback (respond)

    # -- routes ---------------------------------------------------------------------------------
    def get(self, path, query):
        app = self.server.app
        if path == '/api/info':
            return HTTPStatus.OK, JSON, json.dumps(app.info).encode()
        if path == '/api/example':
            index = int_parameter(query, 'index', 0)
            return HTTPStatus.OK, JSON, json.dumps(ids_payload(app.example_ids(index))).encode()
        if path in ('/api/synthesize', '/api/label_map'):
            raise HTTPError(HTTPStatus.METHOD_NOT_ALLOWED, f'{path}: send the label map with POST')
        name = 'index.html' if path == '/' else path.lstrip('/')
        if '/' in name or not (STATIC / name).is_file():
            raise HTTPError(HTTPStatus.NOT_FOUND, f'{path}: not found')
        return HTTPStatus.OK, CONTENT_TYPES.get(Path(name).suffix, 'application/octet-stream'), \
            (STATIC / name).read_bytes()

    def post(self, path, query):
        app = self.server.app
        if path not in ('/api/synthesize', '/api/label_map'):
            raise HTTPError(HTTPStatus.NOT_FOUND, f'{path}: not found')
        body = self.body()
        cap = app.max_label_pixels
        if path == '/api/synthesize' and self.headers.get('Content-Type', '').startswith('image/'):
            label, style, seed = decode_image(body, 'label map', cap), None, int_parameter(query, 'seed', None)
            output_size = query.get('output_size', ['label'])[0]
        else:
            request = json_object(body)
            if path == '/api/label_map':
                image = decode_image(request.get('image'), 'label map', cap)
                ids = app.upload_ids(image, request.get('palette', PAINTED))
                payload = {**ids_payload(ids), 'source_width': image.width, 'source_height': image.height}
                return HTTPStatus.OK, JSON, json.dumps(payload).encode()
            label = decode_image(request.get('label'), 'label map', cap)
            style = decode_image(request['style'], 'style image') if request.get('style') else None
            seed = request.get('seed')
            output_size = request.get('output_size', 'label')
        return HTTPStatus.OK, 'image/png', png_bytes(app.synthesize(label, style, seed, output_size))

    # -- plumbing -------------------------------------------------------------------------------
    def body(self) -> bytes:
        try:
            length = int(self.headers.get('Content-Length', ''))
        except ValueError:
            raise HTTPError(HTTPStatus.LENGTH_REQUIRED, 'request: no Content-Length') from None
        if length > MAX_BODY:
            raise HTTPError(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, f'request: {length} bytes, more than {MAX_BODY}')
        return self.rfile.read(length)

    def respond(self, route):
        url = urlsplit(self.path)
        try:
            status, content_type, body = route(url.path, parse_qs(url.query))
        except HTTPError as exc:
            status, content_type, body = exc.status, JSON, json.dumps({'error': str(exc)}).encode()
        except UserError as exc:
            status, content_type, body = HTTPStatus.BAD_REQUEST, JSON, json.dumps({'error': one_line(exc)}).encode()
        except Exception as exc:  # a bug: the page shows one line, the terminal the traceback
            traceback.print_exc(file=sys.stderr)
            message = f'internal error: {type(exc).__name__}: {one_line(exc)}'
            status, content_type, body = HTTPStatus.INTERNAL_SERVER_ERROR, JSON, json.dumps({'error': message}).encode()
        try:
            self.send_response(status)
            self.send_header('Content-Type', content_type)
            self.send_header('Content-Length', str(len(body)))
            self.send_header('Cache-Control', 'no-store')
            self.send_header('X-Content-Type-Options', 'nosniff')
            if content_type.startswith('text/html'):
                self.send_header('Content-Security-Policy', PAGE_POLICY)
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the browser went away (a reload while synthesizing)


def int_parameter(query, name, default):
    values = query.get(name)
    if not values:
        return default
    try:
        return int(values[0])
    except ValueError:
        raise UserError(f'{name}: expected an integer, got {values[0]!r}') from None


def json_object(body: bytes) -> dict:
    try:
        request = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise UserError('request: not JSON (expected a JSON object)') from None
    if not isinstance(request, dict):
        raise UserError('request: expected a JSON object')
    return request
