// <media-attach owner-type="scene" owner-id="…">: an owner's media by role; attach from
// the library, detach, reorder (drag, or Alt+↑/Alt+↓ and the move buttons), set the cover.
//
// Attributes: owner-type, owner-id (required), roles (shown, default all four:
// "cover inline gallery reference"), api-base, token, dev-user.
// Events: media-attached {attachment}, media-detached {attachment}, media-reordered
// {role, attachments}, media-cover-set {attachment}. Methods: reload().
import { MediaElement, assetLabel, h, thumbnail } from './media-element.js';
import './media-library.js';

const ROLES = ['cover', 'inline', 'gallery', 'reference'];
const ROLE_NAMES = { cover: 'Cover', inline: 'Inline', gallery: 'Gallery', reference: 'Reference' };

class MediaAttach extends MediaElement {
  static observedAttributes = ['owner-type', 'owner-id', 'roles', 'api-base', 'token', 'dev-user'];

  static styles = `
    .toolbar { display: flex; gap: 8px; align-items: center; margin-bottom: var(--_gap); }
    .picker { border: 1px solid var(--_border); border-radius: var(--_radius); padding: var(--_gap);
      margin-bottom: var(--_gap); background: var(--_subtle); --media-library-height: 240px; --media-thumb-size: 96px; }
    .picker .row { margin-top: var(--_gap); }
    section { margin-bottom: var(--_gap); }
    h3 { font-size: 1em; margin: 0 0 6px; }
    ol { list-style: none; margin: 0; padding: 0; display: grid; gap: 6px; }
    li { display: grid; grid-template-columns: 56px 1fr auto; gap: 10px; align-items: center; padding: 6px;
      border: 1px solid var(--_border); border-radius: var(--_radius); background: var(--_surface); }
    li[draggable=true] { cursor: grab; }
    li.dragging { opacity: 0.5; }
    li.drop-before { box-shadow: 0 -3px 0 var(--_accent); }
    li.drop-after { box-shadow: 0 3px 0 var(--_accent); }
    .title { font-weight: 600; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
    .actions { display: flex; flex-wrap: wrap; gap: 4px; justify-content: end; }
    .actions button { padding: 3px 8px; font-size: 0.9em; }
    .empty { padding: 6px 0; }
  `;

  constructor() {
    super();
    this.attachments = [];
    this.dragging = null;
    this.library = null;  // made when the picker first opens, with this element's auth attributes
    this.roleChoice = h('select', { id: 'attach-role' },
      ROLES.map((role) => h('option', { value: role, selected: role === 'gallery' }, ROLE_NAMES[role])));
    this.attachButton = h('button', { type: 'button', class: 'primary', disabled: true, onclick: () => this.attachSelected() },
      'Attach selected');
    this.picker = h('div', { class: 'picker', id: 'picker', hidden: true, part: 'picker' },
      h('div', { class: 'row' },
        h('div', { class: 'field' }, h('label', { for: 'attach-role' }, 'Role'), this.roleChoice),
        this.attachButton,
        h('button', { type: 'button', onclick: () => this.togglePicker(false) }, 'Cancel')));
    this.openButton = h('button', { type: 'button', 'aria-expanded': 'false', 'aria-controls': 'picker',
      onclick: () => this.togglePicker(this.picker.hidden) }, 'Add from library');
    this.message = h('span', { class: 'muted', part: 'message' });
    this.sections = h('div', { part: 'roles' });
    this.render(h('div', { class: 'toolbar' }, this.openButton, this.message), this.picker, this.sections);
  }

  connectedCallback() {
    this.connected = true;
    this.reload();
  }

  disconnectedCallback() {
    this.connected = false;
  }

  attributeChangedCallback(name) {
    if (this.library && ['api-base', 'token', 'dev-user'].includes(name)) this.copyAuth(this.library);
    if (this.connected) this.reload();
  }

  copyAuth(element) {
    for (const name of ['api-base', 'token', 'dev-user']) {
      if (this.hasAttribute(name)) element.setAttribute(name, this.getAttribute(name));
      else element.removeAttribute(name);
    }
  }

  get owner() {
    return { ownerType: this.getAttribute('owner-type'), ownerId: this.getAttribute('owner-id') };
  }

  get roles() {
    const listed = (this.getAttribute('roles') || '').split(/\s+/).filter((role) => ROLES.includes(role));
    return listed.length ? listed : ROLES;
  }

  get ownerPath() {
    const { ownerType, ownerId } = this.owner;
    return `/owners/${encodeURIComponent(ownerType)}/${encodeURIComponent(ownerId)}/media`;
  }

  togglePicker(open) {
    this.picker.hidden = !open;
    this.openButton.setAttribute('aria-expanded', String(open));
    if (!open) {
      this.openButton.focus();
    } else if (this.library) {
      this.library.refresh();
    } else {
      this.library = h('media-library', { 'page-size': '12' });
      this.copyAuth(this.library);
      this.library.addEventListener('media-select', (event) => {
        // The picker's own choice, not the page's: it stays inside this widget.
        event.stopPropagation();
        this.attachButton.disabled = false;
      });
      this.picker.prepend(this.library);  // connected: it loads its first page
    }
  }

  /** Runs one change; on a refusal, the server's message (and the list as the server has it). */
  async change(work) {
    try {
      await work();
    } catch (error) {
      this.message.className = 'error';
      this.message.textContent = error.message;
      this.alert(error.message);
      await this.reload();
    }
  }

  say(text) {
    this.message.className = 'muted';
    this.message.textContent = text;
    this.announce(text);
  }

  async reload(focusId = null) {
    const { ownerType, ownerId } = this.owner;
    if (!ownerType || !ownerId) return;
    this.setAttribute('aria-busy', 'true');
    try {
      this.show((await this.client.request('GET', this.ownerPath)).items, focusId);
    } catch (error) {
      this.attachments = [];
      this.sections.replaceChildren(h('p', { class: 'error' }, error.message));
      this.alert(error.message);
    } finally {
      this.removeAttribute('aria-busy');
    }
  }

  show(attachments, focusId = null) {
    this.attachments = attachments;
    this.sections.replaceChildren(...this.roles.map((role) => this.section(role)));
    if (focusId) this.sections.querySelector(`li[data-attachment-id="${CSS.escape(focusId)}"]`)?.focus();
  }

  byRole(role) {
    return this.attachments.filter((attachment) => attachment.role === role);
  }

  section(role) {
    const items = this.byRole(role);
    const heading = h('h3', { id: `role-${role}` }, ROLE_NAMES[role]);
    const list = items.length
      ? h('ol', { 'aria-labelledby': `role-${role}`, 'data-role': role, part: 'list' },
        items.map((attachment, index) => this.item(attachment, index, items.length)))
      : h('p', { class: 'empty muted', 'data-role': role }, role === 'cover' ? 'No cover yet.' : 'Nothing attached.');
    return h('section', { 'aria-labelledby': `role-${role}` }, heading, list);
  }

  item(attachment, index, count) {
    const name = assetLabel(attachment.asset);
    const ordered = attachment.role !== 'cover' && count > 1;
    const isCover = this.byRole('cover').some((cover) => cover.assetId === attachment.assetId);
    const li = h('li', {
      tabindex: '0', 'data-attachment-id': attachment.id, 'data-asset-id': attachment.assetId, part: 'item',
      'aria-label': `${name}, ${ROLE_NAMES[attachment.role]} ${index + 1} of ${count}`,
      'aria-keyshortcuts': ordered ? 'Alt+ArrowUp Alt+ArrowDown' : null,
      draggable: ordered ? 'true' : null,
      onkeydown: (event) => {
        if (!ordered || !event.altKey || !['ArrowUp', 'ArrowDown'].includes(event.key)) return;
        event.preventDefault();
        this.move(attachment, event.key === 'ArrowUp' ? -1 : 1);
      },
    },
    thumbnail(attachment.asset),
    h('div', {}, h('div', { class: 'title' }, name),
      h('div', { class: 'muted' }, ordered ? `${index + 1} of ${count}` : ROLE_NAMES[attachment.role])),
    h('div', { class: 'actions' },
      ordered ? h('button', { type: 'button', disabled: index === 0, 'aria-label': `Move ${name} up`,
        onclick: () => this.move(attachment, -1) }, '↑') : null,
      ordered ? h('button', { type: 'button', disabled: index === count - 1, 'aria-label': `Move ${name} down`,
        onclick: () => this.move(attachment, 1) }, '↓') : null,
      attachment.role !== 'cover' && !isCover
        ? h('button', { type: 'button', 'aria-label': `Set ${name} as cover`, onclick: () => this.setCover(attachment) },
          'Set as cover')
        : null,
      h('button', { type: 'button', 'aria-label': `Detach ${name} from ${ROLE_NAMES[attachment.role]}`,
        onclick: () => this.detach(attachment) }, 'Detach')));
    if (ordered) this.dragHandlers(li, attachment);
    return li;
  }

  dragHandlers(li, attachment) {
    const clear = () => li.classList.remove('drop-before', 'drop-after');
    li.addEventListener('dragstart', (event) => {
      this.dragging = attachment;
      event.dataTransfer.effectAllowed = 'move';
      event.dataTransfer.setData('text/plain', attachment.id);
      li.classList.add('dragging');
    });
    li.addEventListener('dragend', () => {
      this.dragging = null;
      li.classList.remove('dragging');
    });
    li.addEventListener('dragover', (event) => {
      if (!this.dragging || this.dragging.role !== attachment.role || this.dragging.id === attachment.id) return;
      event.preventDefault();
      const after = event.clientY > li.getBoundingClientRect().top + li.offsetHeight / 2;
      li.classList.toggle('drop-after', after);
      li.classList.toggle('drop-before', !after);
    });
    li.addEventListener('dragleave', clear);
    li.addEventListener('drop', (event) => {
      event.preventDefault();
      const after = li.classList.contains('drop-after');
      clear();
      const moved = this.dragging;
      if (!moved || moved.role !== attachment.role || moved.id === attachment.id) return;
      const ids = this.byRole(attachment.role).map((item) => item.id).filter((id) => id !== moved.id);
      ids.splice(ids.indexOf(attachment.id) + (after ? 1 : 0), 0, moved.id);
      this.reorder(attachment.role, ids, moved);
    });
  }

  move(attachment, step) {
    const ids = this.byRole(attachment.role).map((item) => item.id);
    const from = ids.indexOf(attachment.id);
    const to = from + step;
    if (to < 0 || to >= ids.length) return;
    [ids[from], ids[to]] = [ids[to], ids[from]];
    this.reorder(attachment.role, ids, attachment);
  }

  /** The role's attachments in `ids` order: listed first, which is all of that role. */
  reorder(role, ids, moved) {
    return this.change(async () => {
      const { items } = await this.client.request('PUT', `${this.ownerPath}/order`, { json: { attachmentIds: ids } });
      this.show(items, moved.id);
      const placed = this.byRole(role);
      this.say(`Moved ${assetLabel(moved.asset)} to position ${placed.findIndex((item) => item.id === moved.id) + 1} `
        + `of ${placed.length}.`);
      this.emit('media-reordered', { role, attachments: placed });
    });
  }

  attach(assetId, role) {
    return this.client.request('POST', `/media/${encodeURIComponent(assetId)}/attach`,
      { json: { ...this.owner, role } });
  }

  attachSelected() {
    const asset = this.library.selected;
    if (!asset) return;
    const role = this.roleChoice.value;
    return this.change(async () => {
      const attachment = await this.attach(asset.id, role);
      this.togglePicker(false);
      await this.reload(attachment.id);
      this.say(`${assetLabel(asset)} attached as ${ROLE_NAMES[role].toLowerCase()}.`);
      this.emit('media-attached', { attachment });
    });
  }

  setCover(attachment) {
    return this.change(async () => {
      const cover = await this.attach(attachment.assetId, 'cover');
      await this.reload(cover.id);
      this.say(`${assetLabel(attachment.asset)} is the cover.`);
      this.emit('media-cover-set', { attachment: cover });
    });
  }

  detach(attachment) {
    return this.change(async () => {
      await this.client.request('DELETE', `/media/attachments/${encodeURIComponent(attachment.id)}`);
      await this.reload();
      this.openButton.focus();
      this.say(`${assetLabel(attachment.asset)} detached.`);
      this.emit('media-detached', { attachment });
    });
  }
}

customElements.define('media-attach', MediaAttach);
