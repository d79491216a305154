// <media-generate>: a prompt, an optional negative prompt and a size; submits a
// generation job, then follows it (polling with back-off) through queued → running →
// succeeded or failed, and shows the result's thumbnail or the failure's reason.
//
// Attributes: size (default "1024x1024"), owner-type + owner-id + role (attach the
// result there), api-base, token, dev-user.
// Events: media-job {job} on every state change; media-generated {job, asset};
// media-generate-failed {job?, status?, code?, message}.
import { MediaApiError } from './media-client.js';
import { MediaElement, assetLabel, h, thumbnail } from './media-element.js';

// The sizes the API offers (GenerationParams in the contract).
const SIZES = ['256x256', '512x512', '1024x1024', '1024x1536', '1536x1024', '1024x1792', '1792x1024'];
const STATES = { queued: 'Queued…', running: 'Generating…', succeeded: 'Done', failed: 'Failed' };

class MediaGenerate extends MediaElement {
  static styles = `
    form { display: grid; gap: var(--_gap); }
    textarea { resize: vertical; min-height: 4.5em; }
    .result { display: grid; grid-template-columns: var(--_thumb) 1fr; gap: var(--_gap); align-items: center;
      margin-top: var(--_gap); }
    .result:empty { display: none; }
    .state[data-status=failed] { color: var(--_danger); }
    .state[data-status=succeeded] { color: var(--_success); }
  `;

  constructor() {
    super();
    this.prompt = h('textarea', { id: 'prompt', name: 'prompt', required: true, maxlength: 4000, rows: 3 });
    this.negative = h('textarea', { id: 'negative', name: 'negativePrompt', maxlength: 4000, rows: 2 });
    this.size = h('select', { id: 'size', name: 'size' }, SIZES.map((size) => h('option', { value: size }, size.replace('x', ' × '))));
    this.submit = h('button', { type: 'submit', class: 'primary' }, 'Generate');
    this.state = h('p', { class: 'state muted', part: 'state', 'data-status': 'idle' });
    this.result = h('div', { class: 'result', part: 'result' });
    const form = h('form', { onsubmit: (event) => { event.preventDefault(); this.generate(); } },
      h('div', { class: 'field' }, h('label', { for: 'prompt' }, 'Prompt'), this.prompt),
      h('div', { class: 'field' }, h('label', { for: 'negative' }, 'Negative prompt (optional)'), this.negative),
      h('div', { class: 'row' },
        h('div', { class: 'field' }, h('label', { for: 'size' }, 'Size'), this.size),
        this.submit));
    this.render(form, this.state, this.result);
  }

  connectedCallback() {
    const size = this.getAttribute('size');
    this.size.value = SIZES.includes(size) ? size : '1024x1024';
  }

  disconnectedCallback() {
    this.following?.abort();
  }

  show(status, text) {
    this.state.dataset.status = status;
    this.state.textContent = text;
    this.announce(text);
  }

  async generate() {
    const prompt = this.prompt.value.trim();
    if (!prompt) {
      this.prompt.focus();
      return;
    }
    const [width, height] = this.size.value.split('x').map(Number);
    const order = { prompt, type: 'image', params: { width, height } };
    if (this.negative.value.trim()) order.negativePrompt = this.negative.value.trim();
    if (this.getAttribute('owner-type') && this.getAttribute('owner-id')) {
      Object.assign(order, { ownerType: this.getAttribute('owner-type'), ownerId: this.getAttribute('owner-id'),
        role: this.getAttribute('role') || 'gallery' });
    }
    this.following?.abort();
    this.following = new AbortController();
    this.submit.disabled = true;
    this.result.replaceChildren();
    this.show('submitting', 'Submitting…');
    let job = null;
    try {
      const client = this.client;
      job = await client.request('POST', '/media/generate', { json: order, signal: this.following.signal });
      this.update(job);
      job = await client.followJob(job.id, { signal: this.following.signal, onUpdate: (next) => this.update(next) });
      if (job.status === 'succeeded' && job.resultAsset) {
        this.result.replaceChildren(thumbnail(job.resultAsset),
          h('div', {}, h('div', { class: 'title' }, assetLabel(job.resultAsset)),
            h('div', { class: 'muted' }, `${job.resultAsset.width} × ${job.resultAsset.height}`)));
        this.emit('media-generated', { job, asset: job.resultAsset });
      } else {
        const reason = job.error || 'The generation failed.';
        this.show('failed', `Failed: ${reason}`);
        this.alert(`The generation failed: ${reason}`);
        this.emit('media-generate-failed', { job, message: reason });
      }
    } catch (error) {
      if (error.name === 'AbortError') return;
      const refusal = error instanceof MediaApiError ? error : new MediaApiError(0, 'error', String(error.message));
      this.show('failed', refusal.message);
      this.alert(refusal.message);
      this.emit('media-generate-failed', { job, status: refusal.status, code: refusal.code, message: refusal.message });
    } finally {
      this.submit.disabled = false;
    }
  }

  update(job) {
    if (this.state.dataset.status === job.status) return;
    this.show(job.status, STATES[job.status] || job.status);
    this.emit('media-job', { job });
  }
}

customElements.define('media-generate', MediaGenerate);
