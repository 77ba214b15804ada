// The painting page: a label map of class ids painted pixel by pixel (no anti-aliasing, so every colour is
// exactly a class colour of the semsyn palette), sent as a PNG to the server, which answers with the picture.
'use strict';

const $ = (id) => document.getElementById(id);
const DISPLAY = 512;  // about this many screen pixels for the longer side of the canvas
const UNDO_STEPS = 50;

const state = {
  info: null,
  width: 0, height: 0,
  ids: null,          // Uint16Array of class ids, row-major: what is painted
  pixels: null,       // ImageData of the canvas: the ids in their colours
  colours: new Map(), // class id -> [r, g, b]
  names: new Map(),   // class id -> name
  current: 0,         // the class the brush and the fill paint
  tool: 'brush',
  size: 6,
  stroke: null,       // the last brush centre of a stroke in progress
  undo: [],
  exampleIndex: 0,
  style: null,        // data URL of the style image
  busy: false, again: false, synthesized: 0,
  resultUrl: null,
  loaded: 0,          // label maps loaded from elsewhere (uploads, examples): a picture of an earlier one is stale
};

// -- server ------------------------------------------------------------------------------------
async function api(path, body) {
  const init = body === undefined ? {} : {
    method: 'POST', headers: {'Content-Type': 'application/json'}, body: JSON.stringify(body)};
  const response = await fetch(path, init);
  if (!response.ok) {
    let message = `${response.status} ${response.statusText}`;
    try { message = (await response.json()).error || message; } catch (e) { /* not JSON */ }
    throw new Error(message);
  }
  return response;
}

function setStatus(text, isError) {
  const line = String(text).split('\n')[0];
  $('status').textContent = line || '\u00a0';
  $('status').classList.toggle('error', !!isError);
  $('status').title = line;
}

function readFile(file) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(reader.result);
    reader.onerror = () => reject(new Error(`cannot read ${file.name}`));
    reader.readAsDataURL(file);
  });
}

// -- the label map -------------------------------------------------------------------------------
function hexToRgb(hex) {
  return [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
}

function setPixel(x, y, id) {
  const i = y * state.width + x;
  state.ids[i] = id;
  const rgb = state.colours.get(id), d = state.pixels.data;
  d[4 * i] = rgb[0]; d[4 * i + 1] = rgb[1]; d[4 * i + 2] = rgb[2]; d[4 * i + 3] = 255;
}

function redraw() {
  $('canvas').getContext('2d').putImageData(state.pixels, 0, 0);
}

function setIds(ids) {
  for (let i = 0; i < ids.length; i++) setPixel(i % state.width, Math.floor(i / state.width), ids[i]);
  redraw();
}

function remember() {
  state.undo.push(state.ids.slice());
  if (state.undo.length > UNDO_STEPS) state.undo.shift();
  $('undo').disabled = false;
}

function undo() {
  if (!state.undo.length) return;
  setIds(state.undo.pop());
  $('undo').disabled = !state.undo.length;
  changed();
}

// A disc of `size` pixels around the pixel (odd sizes) or the pixel corner (even sizes) nearest to (px, py).
function stamp(px, py, id) {
  const r = state.size / 2;
  const cx = state.size % 2 ? Math.floor(px) + 0.5 : Math.round(px);
  const cy = state.size % 2 ? Math.floor(py) + 0.5 : Math.round(py);
  for (let y = Math.max(0, Math.floor(cy - r)); y < Math.min(state.height, Math.ceil(cy + r)); y++) {
    for (let x = Math.max(0, Math.floor(cx - r)); x < Math.min(state.width, Math.ceil(cx + r)); x++) {
      if ((x + 0.5 - cx) ** 2 + (y + 0.5 - cy) ** 2 <= r * r) setPixel(x, y, id);
    }
  }
}

function strokeTo(px, py, id) {
  const from = state.stroke || [px, py];
  const steps = Math.max(1, Math.ceil(Math.hypot(px - from[0], py - from[1]) / Math.max(0.5, state.size / 4)));
  for (let s = 1; s <= steps; s++) {
    stamp(from[0] + (px - from[0]) * s / steps, from[1] + (py - from[1]) * s / steps, id);
  }
  state.stroke = [px, py];
  redraw();
}

// The 4-connected region of the pixel's class, painted `id`.
function fill(x, y, id) {
  const w = state.width, h = state.height, ids = state.ids, old = ids[y * w + x];
  if (old === id) return false;
  const stack = [y * w + x];
  while (stack.length) {
    const i = stack.pop();
    if (ids[i] !== old) continue;
    const px = i % w, py = (i - px) / w;
    setPixel(px, py, id);
    if (px > 0) stack.push(i - 1);
    if (px < w - 1) stack.push(i + 1);
    if (py > 0) stack.push(i - w);
    if (py < h - 1) stack.push(i + w);
  }
  redraw();
  return true;
}

// -- pointer ---------------------------------------------------------------------------------------
function modelPoint(event) {
  const rect = $('canvas').getBoundingClientRect();
  return [(event.clientX - rect.left) * state.width / rect.width,
          (event.clientY - rect.top) * state.height / rect.height];
}

function showCursor(event) {
  const canvas = $('canvas'), cursor = $('cursor');
  const [px, py] = modelPoint(event);
  const x = Math.floor(px), y = Math.floor(py);
  if (x >= 0 && y >= 0 && x < state.width && y < state.height) {
    const id = state.ids[y * state.width + x];
    $('hover').textContent = `x ${x}, y ${y}: ${state.names.get(id)} (class ${id})`;
  }
  cursor.hidden = state.tool === 'fill';
  if (cursor.hidden) return;
  const scale = canvas.getBoundingClientRect().width / state.width;
  const cx = state.size % 2 ? x + 0.5 : Math.round(px), cy = state.size % 2 ? y + 0.5 : Math.round(py);
  const d = state.size * scale;
  cursor.style.width = cursor.style.height = `${d}px`;
  cursor.style.left = `${canvas.offsetLeft + cx * scale - d / 2}px`;
  cursor.style.top = `${canvas.offsetTop + cy * scale - d / 2}px`;
}

function onPointerDown(event) {
  if (event.button !== 0) return;
  const [px, py] = modelPoint(event);
  if (state.tool === 'fill') {
    const x = Math.floor(px), y = Math.floor(py);
    if (x < 0 || y < 0 || x >= state.width || y >= state.height) return;
    const before = state.ids.slice();
    if (fill(x, y, state.current)) {
      state.undo.push(before);
      $('undo').disabled = false;
      changed();
    }
    return;
  }
  remember();
  $('canvas').setPointerCapture(event.pointerId);
  state.stroke = null;
  strokeTo(px, py, paintId());
  event.preventDefault();
}

function onPointerMove(event) {
  showCursor(event);
  if (state.stroke) {
    const [px, py] = modelPoint(event);
    strokeTo(px, py, paintId());
  }
}

function onPointerUp() {
  if (!state.stroke) return;
  state.stroke = null;
  changed();
}

function paintId() {
  return state.tool === 'eraser' ? state.info.eraser.id : state.current;
}

// -- controls ----------------------------------------------------------------------------------------
function selectClass(id) {
  state.current = id;
  for (const button of document.querySelectorAll('.swatch')) {
    button.setAttribute('aria-checked', String(Number(button.dataset.id) === id));
  }
  if (state.tool === 'eraser') selectTool('brush');
}

function selectTool(tool) {
  state.tool = tool;
  for (const button of document.querySelectorAll('.tool')) {
    button.setAttribute('aria-pressed', String(button.dataset.tool === tool));
  }
  $('canvas').classList.toggle('fill', tool === 'fill');
}

function setSize(size) {
  state.size = Math.max(1, Math.min(Number($('brush-size').max), size));
  $('brush-size').value = state.size;
  $('brush-size-value').textContent = state.size;
}

function changed() {
  if ($('auto').checked) synthesize();
}

function buildPalette(info) {
  const palette = $('palette');
  for (const cls of info.classes) {
    const button = document.createElement('button');
    button.type = 'button';
    button.className = 'swatch';
    button.id = `class-${cls.id}`;
    button.dataset.id = cls.id;
    button.setAttribute('role', 'radio');
    button.title = `${cls.name}: class ${cls.id}, painted ${cls.colour}`;
    const chip = document.createElement('span');
    chip.className = 'chip';
    chip.style.background = cls.colour;
    button.append(chip);
    if (cls.looks) {  // synthetic classes: what the dataset paints for it
      const looks = document.createElement('span');
      looks.className = 'chip looks';
      looks.style.background = cls.looks;
      looks.title = `looks ${cls.looks}`;
      button.append(looks);
    }
    const name = document.createElement('span');
    name.textContent = cls.name;
    const id = document.createElement('span');
    id.className = 'id';
    id.textContent = cls.id;
    button.append(name, id);
    button.addEventListener('click', () => selectClass(cls.id));
    palette.append(button);
  }
  if (info.classes.length > 12) {
    const filter = $('class-filter');
    filter.hidden = false;
    filter.addEventListener('input', () => {
      const text = filter.value.trim().toLowerCase();
      for (const button of palette.children) {
        button.hidden = !!text && !button.textContent.toLowerCase().includes(text);
      }
    });
  }
}

// The canvas and the picture fill their stages; a stage is about DISPLAY pixels wide (a whole multiple of the
// model's size, so pixels stay square blocks) and narrower where its card has less room (app.css).
function layOut(info) {
  const canvas = $('canvas');
  canvas.width = info.width;
  canvas.height = info.height;
  const scale = Math.max(1, Math.floor(DISPLAY / Math.max(info.width, info.height)));
  for (const stage of [$('canvas-stage'), $('result-stage')]) {
    stage.style.width = `${info.width * scale}px`;
    stage.style.aspectRatio = `${info.width} / ${info.height}`;
  }
}

// -- label maps from elsewhere -------------------------------------------------------------------------
// The picture of the label map before, gone: the picture card shows nothing until the next synthesis.
function clearPicture(text) {
  if (state.resultUrl) URL.revokeObjectURL(state.resultUrl);
  state.resultUrl = null;
  $('result').hidden = true;
  $('result').removeAttribute('src');
  $('download').hidden = true;
  $('download').removeAttribute('href');
  $('placeholder').textContent = text;
  $('placeholder').hidden = false;
}

async function loadIds(promise, what) {
  try {
    const map = await (await promise).json();
    if (map.width !== state.width || map.height !== state.height) throw new Error(`${what}: wrong size`);
    remember();
    setIds(map.ids);
    state.loaded += 1;
    clearPicture(`Press Synthesize for the picture of ${what}.`);
    const resized = map.source_width && (map.source_width !== map.width || map.source_height !== map.height) ?
      ` (${map.source_width}\u00d7${map.source_height}, resized to the model's ${map.width}\u00d7${map.height})` : '';
    setStatus(`${what} loaded${resized}`);
    changed();
  } catch (error) {
    setStatus(error.message, true);
  }
}

async function upload(file) {
  try {
    const image = await readFile(file);
    await loadIds(api('/api/label_map', {image, palette: $('upload-palette').value}), file.name);
  } catch (error) {
    setStatus(error.message, true);
  }
}

// -- synthesis ---------------------------------------------------------------------------------------
async function synthesize() {
  if (state.busy) {  // one request at a time; the latest painting goes next
    state.again = true;
    return;
  }
  state.busy = true;
  $('synthesize').disabled = true;
  setStatus('synthesizing\u2026');
  const body = {label: $('canvas').toDataURL('image/png')};
  if (state.info.seeded) {
    if (state.style) body.style = state.style;
    else body.seed = Number($('seed').value);
  }
  const start = performance.now(), loaded = state.loaded;
  try {
    const blob = await (await api('/api/synthesize', body)).blob();
    // a label map came in meanwhile: this picture is of the one before, and is not shown
    if (loaded === state.loaded) await showPicture(blob, body, start);
  } catch (error) {
    setStatus(error.message, true);
  } finally {
    state.busy = false;
    $('synthesize').disabled = false;
  }
  if (state.again) {
    state.again = false;
    synthesize();
  }
}

async function showPicture(blob, body, start) {
  const url = URL.createObjectURL(blob);
  await new Promise((resolve, reject) => {
    const result = $('result');
    result.onload = resolve;
    result.onerror = () => reject(new Error('the server sent a picture the browser cannot show'));
    result.src = url;
  });
  if (state.resultUrl) URL.revokeObjectURL(state.resultUrl);
  state.resultUrl = url;
  $('result').hidden = false;
  $('placeholder').hidden = true;
  $('download').href = url;
  $('download').hidden = false;
  state.synthesized += 1;
  $('result').dataset.count = state.synthesized;  // tests wait on it
  const how = state.info.seeded ? (state.style ? ', style of the style image' : `, seed ${body.seed}`) : '';
  setStatus(`synthesized in ${((performance.now() - start) / 1000).toFixed(2)} s${how}`);
}

function setStyle(dataUrl, name) {
  state.style = dataUrl;
  $('style-preview').hidden = !dataUrl;
  if (dataUrl) $('style-preview').src = dataUrl;
  $('clear-style').hidden = !dataUrl;
  $('seed').disabled = $('random-seed').disabled = !!dataUrl;
  $('style-note').textContent = dataUrl ? `style of ${name}; the seed is not used` : '';
  $('style').value = '';
  if (state.synthesized) synthesize();
}

// -- start -------------------------------------------------------------------------------------------
function wire(info) {
  const canvas = $('canvas');
  canvas.addEventListener('pointerdown', onPointerDown);
  canvas.addEventListener('pointermove', onPointerMove);
  canvas.addEventListener('pointerup', onPointerUp);
  canvas.addEventListener('pointercancel', onPointerUp);
  canvas.addEventListener('pointerleave', () => { $('cursor').hidden = true; });
  for (const button of document.querySelectorAll('.tool')) {
    button.addEventListener('click', () => selectTool(button.dataset.tool));
  }
  $('brush-size').addEventListener('input', () => setSize(Number($('brush-size').value)));
  $('undo').addEventListener('click', undo);
  $('clear').addEventListener('click', () => {
    remember();
    setIds(new Uint16Array(state.ids.length).fill(info.eraser.id));
    changed();
  });
  $('example').addEventListener('click', () => {
    const index = state.exampleIndex++;
    loadIds(api(`/api/example?index=${index}`), `example ${index + 1}`);
  });
  $('upload').addEventListener('change', () => {
    if ($('upload').files.length) upload($('upload').files[0]);
    $('upload').value = '';
  });
  $('synthesize').addEventListener('click', synthesize);
  $('seed').addEventListener('input', () => { $('seed-value').textContent = $('seed').value; });
  $('seed').addEventListener('change', () => { if (state.synthesized) synthesize(); });
  $('random-seed').addEventListener('click', () => {
    $('seed').value = Math.floor(Math.random() * (Number($('seed').max) + 1));
    $('seed-value').textContent = $('seed').value;
    synthesize();
  });
  $('style').addEventListener('change', async () => {
    const file = $('style').files[0];
    if (!file) return;
    try {
      setStyle(await readFile(file), file.name);
    } catch (error) {
      setStatus(error.message, true);
    }
  });
  $('clear-style').addEventListener('click', () => setStyle(null, ''));
  document.addEventListener('keydown', (event) => {
    if (event.target.tagName === 'INPUT' && event.target.type !== 'range') return;
    if ((event.ctrlKey || event.metaKey) && event.key === 'z') { undo(); event.preventDefault(); return; }
    const keys = {b: () => selectTool('brush'), f: () => selectTool('fill'), e: () => selectTool('eraser'),
                  '[': () => setSize(state.size - 1), ']': () => setSize(state.size + 1)};
    if (keys[event.key] && !event.ctrlKey && !event.metaKey) keys[event.key]();
  });
}

async function start() {
  let info;
  try {
    info = await (await api('/api/info')).json();
  } catch (error) {
    setStatus(`cannot reach the model: ${error.message}`, true);
    return;
  }
  state.info = info;
  state.width = info.width;
  state.height = info.height;
  for (const cls of info.classes.concat([info.eraser])) {
    state.colours.set(cls.id, hexToRgb(cls.colour));
    state.names.set(cls.id, cls.name);
  }
  state.ids = new Uint16Array(info.width * info.height);
  state.pixels = new ImageData(info.width, info.height);
  const style = info.use_vae ? 'style: a seed or a style image' : info.seeded ? 'style: a seed (the noise)' :
    'no style input';
  $('model').textContent = `${info.name} \u00b7 ${info.netG} \u00b7 ${info.dataset_mode} \u00b7 ` +
    `${info.width}\u00d7${info.height} \u00b7 ${info.classes.length} classes \u00b7 ${style}`;
  document.title = `semsyn painting \u00b7 ${info.name}`;
  const eraser = info.eraser;
  $('eraser-note').textContent = eraser.dontcare ? `The eraser paints the dontcare class (class ${eraser.id}).` :
    `The eraser paints class ${eraser.id} (${eraser.name}): the model has no dontcare class.`;
  $('start-note').textContent = `Examples: ${info.examples}. Uploads: a single-channel map of ids, or a ` +
    `colour map.`;
  if (info.upload_palettes.length > 1) {
    $('upload-palette-label').hidden = false;
  }
  for (const name of info.upload_palettes) {
    const option = document.createElement('option');
    option.value = option.textContent = name;
    $('upload-palette').append(option);
  }
  if (info.seeded) {  // --use_vae models, and generators with their own noise (a seed only)
    $('style-controls').hidden = false;
    $('style').parentElement.hidden = !info.use_vae;
    $('seed').value = Math.min(info.seed, Number($('seed').max));
    $('seed-value').textContent = $('seed').value;
  }
  buildPalette(info);
  layOut(info);
  setIds(new Uint16Array(state.ids.length).fill(info.eraser.id));
  wire(info);
  selectClass(info.classes[Math.min(1, info.classes.length - 1)].id);
  selectTool('brush');
  setSize(state.size);
  $('undo').disabled = true;
  $('synthesize').disabled = false;
  document.body.dataset.ready = 'true';  // tests wait on it
  setStatus('Pick a class, paint, press Synthesize.');
}

start();
