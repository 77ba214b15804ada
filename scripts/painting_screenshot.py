"""The README's screenshot of the painting page: a run's model served, a label map drawn on the page with
real pointer strokes (classes of the synthetic dataset: the demo's), its picture synthesized, the window
saved as a PNG. Needs Chromium, ChromeDriver and selenium (pip install semsyn[test]).

    python scripts/painting_screenshot.py checkpoints/demo media/painting_app.png [--window 1400x900]
"""
import argparse
import os
import shutil
import sys
import tempfile
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / 'code'))  # runs without installing

# (class, brush size, stroke through these points in 0..1 of the canvas); 'fill' fills at the point
DRAWING = [
    (2, 'fill', [(0.5, 0.9)]),
    (4, 16, [(0.0, 0.12), (0.35, 0.2), (0.7, 0.1), (1.0, 0.18)]),
    (1, 14, [(0.15, 0.45), (0.5, 0.52), (0.85, 0.42)]),
    (5, 18, [(0.2, 0.8), (0.3, 0.7), (0.42, 0.82), (0.3, 0.9), (0.2, 0.8)]),
    (3, 12, [(0.7, 0.68), (0.9, 0.92)]),
]


def executable(name):
    path = shutil.which(name) or f'/usr/bin/{name}'
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        sys.exit(f'{name} not found (Debian: apt-get install chromium chromium-driver)')
    return path


def browser(width, height, profile):
    from selenium import webdriver
    options = webdriver.ChromeOptions()
    options.binary_location = executable('chromium')
    for flag in ('--headless=new', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run',
                 '--disable-background-networking', '--disable-component-update', '--disable-sync',
                 f'--user-data-dir={profile}', f'--window-size={width},{height}', '--force-device-scale-factor=1',
                 '--hide-scrollbars'):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=webdriver.ChromeService(executable_path=executable('chromedriver')),
                              options=options)
    driver.execute_cdp_cmd('Emulation.setDeviceMetricsOverride',
                           {'width': width, 'height': height, 'deviceScaleFactor': 1, 'mobile': False})
    return driver


def wait(driver, script, what, timeout=120):
    from selenium.webdriver.support.ui import WebDriverWait
    WebDriverWait(driver, timeout).until(lambda d: d.execute_script(script), message=f'waiting for {what}')


def stroke(driver, points):
    """The left button held along points (fractions of the canvas) with real pointer events."""
    from selenium.webdriver import ActionChains
    canvas = driver.find_element('id', 'canvas')
    w, h = canvas.size['width'], canvas.size['height']
    offset = lambda p: (round((min(p[0], 0.99) - 0.5) * w), round((min(p[1], 0.99) - 0.5) * h))  # from the centre
    actions = ActionChains(driver).move_to_element_with_offset(canvas, *offset(points[0])).click_and_hold()
    for p in points[1:]:
        actions.move_to_element_with_offset(canvas, *offset(p))
    actions.release().perform()


def draw(driver, drawing):
    for cls, size, points in drawing:
        driver.find_element('id', f'class-{cls}').click()
        if size == 'fill':
            driver.find_element('id', 'tool-fill').click()
        else:
            driver.find_element('id', 'tool-brush').click()
            driver.execute_script("const s = document.getElementById('brush-size'); s.value = arguments[0]; "
                                  "s.dispatchEvent(new Event('input'));", size)
        stroke(driver, points)
    driver.find_element('id', 'tool-brush').click()


def screenshot(run, out, width=1400, height=900, drawing=DRAWING):
    """Serve the model of `run`, draw, synthesize and save the window as `out`."""
    from semsyn import Synthesizer
    from semsyn.app import PaintingApp, PaintingServer
    server = PaintingServer(PaintingApp(Synthesizer.from_checkpoint(run), Path(run).resolve().name), '127.0.0.1', 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    with tempfile.TemporaryDirectory() as profile:
        driver = browser(width, height, profile)
        try:
            driver.get(server.url)
            wait(driver, "return document.body.dataset.ready === 'true'", 'the page to load the model')
            draw(driver, drawing)
            driver.find_element('id', 'synthesize').click()
            wait(driver, "const r = document.getElementById('result'); return r.dataset.count === '1' && r.complete",
                 'the picture')
            driver.execute_script("document.getElementById('hover').innerHTML = '&nbsp;'; window.scrollTo(0, 0)")
            Path(out).parent.mkdir(parents=True, exist_ok=True)
            driver.save_screenshot(str(out))
        finally:
            driver.quit()
            server.shutdown()
            server.server_close()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('run', help='a run folder (checkpoints/<name>), e.g. checkpoints/demo')
    parser.add_argument('out', help='the PNG to write, e.g. media/painting_app.png')
    parser.add_argument('--window', default='1400x900', help='window size WIDTHxHEIGHT (default 1400x900)')
    args = parser.parse_args(argv)
    try:
        width, height = (int(v) for v in args.window.lower().split('x'))
    except ValueError:
        parser.error(f'--window {args.window!r}: expected WIDTHxHEIGHT, e.g. 1400x900')
    try:
        import selenium  # noqa: F401
    except ImportError:
        sys.exit('selenium is not installed (pip install semsyn[test])')
    from semsyn.errors import run_main
    run_main(screenshot, args.run, args.out, width, height)
    print(args.out)


if __name__ == '__main__':
    main()
