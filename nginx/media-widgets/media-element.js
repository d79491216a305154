// What the four widgets share: the base element (shadow root, theme, API client from
// the auth attributes, events, live regions), DOM building without innerHTML, and the
// asset helpers.
import { MediaClient } from './media-client.js';

// Theme: every colour, size and font is a custom property the host page can set on the
// element or any ancestor, e.g. `media-library { --media-accent: #8250df; }`.
const theme = new CSSStyleSheet();
theme.replaceSync(`
  :host {
    --_text: var(--media-text, #1f2328);
    --_muted: var(--media-muted, #59636e);
    --_surface: var(--media-surface, #ffffff);
    --_subtle: var(--media-subtle, #f6f8fa);
    --_border: var(--media-border, #d0d7de);
    --_accent: var(--media-accent, #0969da);
    --_accent-text: var(--media-accent-text, #ffffff);
    --_danger: var(--media-danger, #cf222e);
    --_success: var(--media-success, #1a7f37);
    --_radius: var(--media-radius, 8px);
    --_gap: var(--media-gap, 12px);
    --_thumb: var(--media-thumb-size, 132px);
    display: block;
    box-sizing: border-box;
    color: var(--_text);
    background: var(--_surface);
    font: var(--media-font, 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif);
  }
  :host([hidden]) { display: none; }
  *, *::before, *::after { box-sizing: inherit; }
  button, input, select, textarea { font: inherit; color: inherit; }
  button {
    border: 1px solid var(--_border); border-radius: calc(var(--_radius) * 0.75);
    background: var(--_subtle); padding: 5px 12px; cursor: pointer;
  }
  button.primary { background: var(--_accent); color: var(--_accent-text); border-color: var(--_accent); }
  button:disabled { opacity: 0.55; cursor: not-allowed; }
  input:not([type=file]), select, textarea {
    border: 1px solid var(--_border); border-radius: calc(var(--_radius) * 0.75);
    background: var(--_surface); padding: 5px 8px; min-width: 0;
  }
  :focus-visible { outline: 2px solid var(--_accent); outline-offset: 2px; }
  label { font-weight: 600; }
  .field { display: flex; flex-direction: column; gap: 4px; }
  .row { display: flex; flex-wrap: wrap; gap: var(--_gap); align-items: end; }
  .muted { color: var(--_muted); }
  .error { color: var(--_danger); }
  .success { color: var(--_success); }
  .visually-hidden {
    position: absolute !important; width: 1px; height: 1px; padding: 0; margin: -1px;
    overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; border: 0;
  }
  .thumb {
    display: block; width: 100%; aspect-ratio: 1; object-fit: cover;
    border-radius: calc(var(--_radius) * 0.75); background: var(--_subtle);
  }
`);

/** An element with attributes and children; strings become text nodes (never HTML). */
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === false || value === null || value === undefined) continue;
    if (name.startsWith('on')) element.addEventListener(name.slice(2), value);
    else if (name in element && typeof value !== 'string') element[name] = value;
    else element.setAttribute(name, value === true ? '' : value);
  }
  element.append(...children.flat().filter((child) => child !== null && child !== undefined && child !== false));
  return element;
}

/** The URL of what to show small: the thumbnail, else a video's poster, else the preview. */
export function thumbnailURL(asset) {
  const variants = asset?.variants || [];
  for (const kind of ['thumbnail', 'poster', 'preview']) {
    const variant = variants.find((candidate) => candidate.kind === kind);
    if (variant) return variant.url;
  }
  return null;
}

export function assetLabel(asset) {
  return asset.title || (asset.type === 'video' ? 'Untitled video' : 'Untitled image');
}

/**
 * A thumbnail image of an asset (URLs are opaque: used exactly as the API gave them). One
 * that does not load (a signed URL that expired, a file gone) becomes a plain tile.
 */
export function thumbnail(asset, className = 'thumb') {
  const placeholder = () => h('div', { class: className, role: 'img', 'aria-label': assetLabel(asset), part: 'thumbnail' });
  const url = thumbnailURL(asset);
  if (!url) return placeholder();
  const image = h('img', { class: className, src: url, alt: assetLabel(asset), loading: 'lazy', decoding: 'async',
    part: 'thumbnail', onerror: () => image.replaceWith(placeholder()) });
  return image;
}

/**
 * The widgets' base: an open shadow root with the theme and the element's own styles
 * (`static styles`), the API client from `api-base`, `token` and `dev-user`, events that
 * reach the host page, and two live regions (`announce` politely, `alert` at once).
 */
export class MediaElement extends HTMLElement {
  static styles = '';

  constructor() {
    super();
    const own = new CSSStyleSheet();
    own.replaceSync(this.constructor.styles);
    this.attachShadow({ mode: 'open' }).adoptedStyleSheets = [theme, own];
    this.statusRegion = h('div', { class: 'visually-hidden', role: 'status', 'aria-live': 'polite' });
    this.alertRegion = h('div', { class: 'visually-hidden', role: 'alert', 'aria-live': 'assertive' });
  }

  /** The client for the element's current auth attributes. */
  get client() {
    return new MediaClient({
      apiBase: this.getAttribute('api-base') || '/api',
      token: this.getAttribute('token'),
      devUser: this.getAttribute('dev-user'),
    });
  }

  /** Replaces the shadow root's content, keeping the live regions. */
  render(...children) {
    this.shadowRoot.replaceChildren(...children, this.statusRegion, this.alertRegion);
  }

  emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail, bubbles: true, composed: true }));
  }

  announce(text) {
    this.statusRegion.textContent = text;
  }

  alert(text) {
    this.alertRegion.textContent = text;
  }
}
