// <media-library>: the user's library as a grid of thumbnails (posters for videos),
// newest first, loading the next page by cursor as the grid scrolls; filters by type
// and tag, search in titles; selecting an asset emits it.
//
// Attributes: page-size (default 24, at most 100), type, tag, q (initial filters),
// api-base, token, dev-user.
// Events: media-select {asset}. Methods: refresh() (also run when a media-uploaded or
// media-generated event reaches the document, so new assets show at once).
// Keyboard: arrows, Home and End move in the grid; Enter or Space selects.
import { MediaElement, assetLabel, h, thumbnail } from './media-element.js';

class MediaLibrary extends MediaElement {
  static observedAttributes = ['api-base', 'token', 'dev-user'];

  static styles = `
    .filters { display: grid; grid-template-columns: minmax(0, 2fr) minmax(0, 1fr) minmax(0, 1fr); gap: 8px;
      margin-bottom: var(--_gap); }
    .scroller { max-height: var(--media-library-height, 420px); overflow-y: auto; padding: 4px;
      border: 1px solid var(--_border); border-radius: var(--_radius); }
    ul { list-style: none; margin: 0; padding: 0; display: grid; gap: 8px;
      grid-template-columns: repeat(auto-fill, minmax(var(--_thumb), 1fr)); }
    li { position: relative; border: 2px solid transparent; border-radius: var(--_radius); padding: 3px; cursor: pointer; }
    li:hover { border-color: var(--_border); }
    li[aria-selected=true] { border-color: var(--_accent); background: var(--_subtle); }
    li .caption { display: block; font-size: 0.85em; overflow: hidden; text-overflow: ellipsis; white-space: nowrap;
      padding: 2px 2px 0; }
    .badge { position: absolute; top: 8px; left: 8px; background: rgb(0 0 0 / 0.7); color: #fff; font-size: 0.75em;
      padding: 1px 6px; border-radius: 4px; }
    .footer { display: flex; justify-content: space-between; align-items: center; gap: 8px; padding: 6px 2px 0; }
    .sentinel { height: 1px; }
    .scroller:has(> ul:empty) { border-color: transparent; padding: 0; }
  `;

  constructor() {
    super();
    this.items = [];
    this.nextCursor = null;
    this.loading = false;
    this.loadToken = 0;
    this.selectedId = null;
    this.search = h('input', { id: 'q', type: 'search', placeholder: 'Search titles', maxlength: 255 });
    this.tag = h('input', { id: 'tag', type: 'text', placeholder: 'Any tag' });
    this.type = h('select', { id: 'type' },
      h('option', { value: '' }, 'All types'), h('option', { value: 'image' }, 'Images'),
      h('option', { value: 'video' }, 'Videos'));
    let debounce;
    const refreshSoon = () => {
      clearTimeout(debounce);
      debounce = setTimeout(() => this.refresh(), 300);
    };
    this.search.addEventListener('input', refreshSoon);
    this.tag.addEventListener('input', refreshSoon);
    this.type.addEventListener('change', () => this.refresh());
    this.grid = h('ul', { role: 'listbox', 'aria-label': 'Media library', part: 'grid',
      onkeydown: (event) => this.navigate(event) });
    this.sentinel = h('div', { class: 'sentinel', 'aria-hidden': 'true' });
    this.scroller = h('div', { class: 'scroller', part: 'scroller' }, this.grid, this.sentinel);
    this.summary = h('span', { class: 'muted', part: 'summary' });
    this.more = h('button', { type: 'button', hidden: true, onclick: () => this.loadMore() }, 'Load more');
    this.render(
      h('div', { class: 'filters', role: 'search' },
        h('div', { class: 'field' }, h('label', { for: 'q' }, 'Title'), this.search),
        h('div', { class: 'field' }, h('label', { for: 'tag' }, 'Tag'), this.tag),
        h('div', { class: 'field' }, h('label', { for: 'type' }, 'Type'), this.type)),
      this.scroller,
      h('div', { class: 'footer' }, this.summary, this.more));
    this.observer = new IntersectionObserver((entries) => {
      if (entries.some((entry) => entry.isIntersecting)) this.loadMore();
    }, { root: this.scroller, rootMargin: '200px 0px' });
    this.onNewAsset = () => this.refresh();
  }

  connectedCallback() {
    this.search.value = this.getAttribute('q') || '';
    this.tag.value = this.getAttribute('tag') || '';
    this.type.value = this.getAttribute('type') || '';
    document.addEventListener('media-uploaded', this.onNewAsset);
    document.addEventListener('media-generated', this.onNewAsset);
    this.observer.observe(this.sentinel);
    this.connected = true;
    this.refresh();
  }

  disconnectedCallback() {
    this.connected = false;
    document.removeEventListener('media-uploaded', this.onNewAsset);
    document.removeEventListener('media-generated', this.onNewAsset);
    this.observer.disconnect();
  }

  attributeChangedCallback() {
    if (this.connected) this.refresh();
  }

  get pageSize() {
    const size = Number.parseInt(this.getAttribute('page-size') || '24', 10);
    return Math.min(100, Math.max(1, Number.isFinite(size) ? size : 24));
  }

  /** The first page for the current filters; a page still loading for the old ones is dropped. */
  refresh() {
    this.items = [];
    this.nextCursor = null;
    this.grid.replaceChildren();
    this.scroller.scrollTop = 0;
    this.load(null);
  }

  loadMore() {
    if (this.nextCursor && !this.loading) this.load(this.nextCursor);
  }

  async load(cursor) {
    const token = ++this.loadToken;
    this.loading = true;
    this.summary.textContent = 'Loading…';
    this.setAttribute('aria-busy', 'true');
    try {
      const page = await this.client.request('GET', '/media', {
        query: { limit: this.pageSize, cursor, q: this.search.value.trim(), tag: this.tag.value.trim(), type: this.type.value },
      });
      if (token !== this.loadToken) return;
      this.items.push(...page.items);
      this.nextCursor = page.nextCursor;
      this.grid.append(...page.items.map((asset) => this.tile(asset)));
      this.ensureFocusable();
      const count = this.items.length;
      this.summary.textContent = count === 0 ? 'No media found.'
        : `${count} ${count === 1 ? 'item' : 'items'}${this.nextCursor ? ', more below' : ''}`;
      this.more.hidden = !this.nextCursor;
      this.announce(this.summary.textContent);
    } catch (error) {
      if (token !== this.loadToken) return;
      this.summary.textContent = error.message;
      this.summary.className = 'error';
      this.alert(`The library could not be loaded: ${error.message}`);
      return;
    } finally {
      if (token === this.loadToken) {
        this.loading = false;
        this.removeAttribute('aria-busy');
      }
    }
    this.summary.className = 'muted';
    // The observer reports changes only: if the end is still in sight after this page (it
    // did not fill the scroller), observing afresh reports it again and loads the next.
    this.observer.unobserve(this.sentinel);
    this.observer.observe(this.sentinel);
  }

  tile(asset) {
    const name = asset.type === 'video' ? `${assetLabel(asset)} (video)` : assetLabel(asset);
    return h('li', {
      role: 'option', tabindex: '-1', 'aria-selected': String(asset.id === this.selectedId), 'aria-label': name,
      'data-asset-id': asset.id, part: 'tile', onclick: () => this.select(asset.id),
    }, thumbnail(asset),
    asset.type === 'video' ? h('span', { class: 'badge' }, 'Video') : null,
    h('span', { class: 'caption' }, assetLabel(asset)));
  }

  /** One tile in the tab order (roving tabindex): the selected one, else the first. */
  ensureFocusable() {
    const tiles = [...this.grid.children];
    if (tiles.some((tile) => tile.tabIndex === 0)) return;
    const target = tiles.find((tile) => tile.dataset.assetId === this.selectedId) || tiles[0];
    if (target) target.tabIndex = 0;
  }

  select(id) {
    const asset = this.items.find((item) => item.id === id);
    if (!asset) return;
    this.selectedId = id;
    for (const tile of this.grid.children) {
      const selected = tile.dataset.assetId === id;
      tile.setAttribute('aria-selected', String(selected));
      tile.tabIndex = selected ? 0 : -1;
    }
    this.announce(`${assetLabel(asset)} selected.`);
    this.emit('media-select', { asset });
  }

  /** The selected asset, or null. */
  get selected() {
    return this.items.find((item) => item.id === this.selectedId) || null;
  }

  navigate(event) {
    const tiles = [...this.grid.children];
    const index = tiles.indexOf(this.shadowRoot.activeElement);
    if (index < 0) return;
    const columns = Math.max(1, tiles.filter((tile) => tile.offsetTop === tiles[0].offsetTop).length);
    const moves = { ArrowRight: 1, ArrowLeft: -1, ArrowDown: columns, ArrowUp: -columns,
      Home: -index, End: tiles.length - 1 - index };
    if (event.key === 'Enter' || event.key === ' ') {
      event.preventDefault();
      this.select(tiles[index].dataset.assetId);
      return;
    }
    if (!(event.key in moves)) return;
    event.preventDefault();
    const target = tiles[Math.min(tiles.length - 1, Math.max(0, index + moves[event.key]))];
    tiles[index].tabIndex = -1;
    target.tabIndex = 0;
    target.focus();
    target.scrollIntoView({ block: 'nearest' });
    // At the end of what is loaded: the next page.
    if (target === tiles[tiles.length - 1]) this.loadMore();
  }
}

customElements.define('media-library', MediaLibrary);
