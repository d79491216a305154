// <media-upload>: pick or drop files, several at once; each gets a progress bar fed by
// the upload's real progress, then the created asset or the server's refusal.
//
// Attributes: accept (default "image/*,video/*"), owner-type + owner-id + role (attach
// each upload there, in the same request), api-base, token, dev-user.
// Events: media-uploaded {asset, attachment?, file}; media-upload-error {file, status, code, message}.
import { MediaApiError } from './media-client.js';
import { MediaElement, h, thumbnail } from './media-element.js';

/** Uploads in flight at once: the rest wait, so one big batch cannot hold every worker. */
const PARALLEL_UPLOADS = 2;

class MediaUpload extends MediaElement {
  static styles = `
    .drop {
      display: flex; flex-wrap: wrap; align-items: center; gap: 8px; justify-content: center;
      padding: calc(var(--_gap) * 2); border: 2px dashed var(--_border); border-radius: var(--_radius);
      background: var(--_subtle); text-align: center;
    }
    .drop.over { border-color: var(--_accent); }
    .drop:focus-within { outline: 2px solid var(--_accent); outline-offset: 2px; }
    .choose { background: var(--_accent); color: var(--_accent-text); border-radius: calc(var(--_radius) * 0.75);
      padding: 5px 12px; cursor: pointer; }
    ul { list-style: none; margin: var(--_gap) 0 0; padding: 0; display: grid; gap: 8px; }
    li { display: grid; grid-template-columns: 40px 1fr auto; gap: 4px 10px; align-items: center;
      border: 1px solid var(--_border); border-radius: var(--_radius); padding: 8px; }
    li .preview { grid-row: span 2; width: 40px; height: 40px; }
    .name { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; font-weight: 600; }
    progress { grid-column: 2 / 4; width: 100%; height: 8px; accent-color: var(--_accent); }
    li[data-state=done] progress { accent-color: var(--_success); }
    li[data-state=refused] progress { accent-color: var(--_danger); }
    .message { grid-column: 2 / 4; }
  `;

  constructor() {
    super();
    this.queue = [];
    this.running = 0;
    const input = h('input', {
      type: 'file', id: 'files', multiple: true, class: 'visually-hidden',
      onchange: () => {
        this.add(input.files);
        input.value = '';
      },
    });
    this.input = input;
    this.list = h('ul', { 'aria-label': 'Uploads', part: 'list' });
    this.dropZone = h('div', { class: 'drop', part: 'dropzone' },
      input,
      h('label', { for: 'files', class: 'choose' }, 'Choose files'),
      h('span', { class: 'muted' }, 'or drop them here'));
    for (const type of ['dragenter', 'dragover']) {
      this.dropZone.addEventListener(type, (event) => {
        event.preventDefault();
        this.dropZone.classList.add('over');
      });
    }
    this.dropZone.addEventListener('dragleave', () => this.dropZone.classList.remove('over'));
    this.dropZone.addEventListener('drop', (event) => {
      event.preventDefault();
      this.dropZone.classList.remove('over');
      this.add(event.dataTransfer.files);
    });
    this.render(this.dropZone, this.list);
  }

  connectedCallback() {
    this.input.accept = this.getAttribute('accept') || 'image/*,video/*';
  }

  /** Queues files; each gets its row now and its upload when a slot is free. */
  add(files) {
    for (const file of files) {
      const progress = h('progress', { max: 100, value: 0, 'aria-label': `Upload of ${file.name}` });
      const message = h('span', { class: 'message muted' }, 'Waiting…');
      const row = h('li', { 'data-state': 'waiting', part: 'file' },
        h('div', { class: 'preview thumb' }), h('span', { class: 'name', title: file.name }, file.name),
        h('span', { class: 'percent muted' }, '0%'), progress, message);
      this.list.append(row);
      this.queue.push({ file, row, progress, message });
    }
    this.next();
  }

  next() {
    while (this.running < PARALLEL_UPLOADS && this.queue.length > 0) {
      const item = this.queue.shift();
      this.running += 1;
      this.send(item).finally(() => {
        this.running -= 1;
        this.next();
      });
    }
  }

  async send({ file, row, progress, message }) {
    const percent = row.querySelector('.percent');
    row.dataset.state = 'uploading';
    message.textContent = 'Uploading…';
    this.announce(`Uploading ${file.name}.`);
    const fields = {
      // The file's name without its extension: what a person would call it.
      title: file.name.replace(/\.[^.]*$/, '').slice(0, 255),
      ownerType: this.getAttribute('owner-type'),
      ownerId: this.getAttribute('owner-id'),
      role: this.getAttribute('owner-type') ? this.getAttribute('role') || 'gallery' : null,
    };
    const upload = this.client.upload(file, fields, (sent, total) => {
      const value = total > 0 ? Math.floor((sent / total) * 100) : 100;
      progress.value = value;
      percent.textContent = `${value}%`;
      if (value === 100) {
        row.dataset.state = 'processing';
        message.textContent = 'Processing…';
      }
    });
    try {
      const body = await upload.done;
      const { attachment = null, ...asset } = body;
      row.dataset.state = 'done';
      row.dataset.assetId = asset.id;
      row.querySelector('.preview').replaceWith(thumbnail(asset, 'preview thumb'));
      message.className = 'message success';
      message.textContent = 'Uploaded';
      this.announce(`${file.name} uploaded.`);
      this.emit('media-uploaded', { asset, attachment, file: file.name });
    } catch (error) {
      const refusal = error instanceof MediaApiError ? error : new MediaApiError(0, 'error', String(error.message));
      row.dataset.state = 'refused';
      row.dataset.errorCode = refusal.code;
      message.className = 'message error';
      message.textContent = refusal.message;
      this.alert(`${file.name} was not uploaded: ${refusal.message}`);
      this.emit('media-upload-error',
        { file: file.name, status: refusal.status, code: refusal.code, message: refusal.message });
    }
  }
}

customElements.define('media-upload', MediaUpload);
