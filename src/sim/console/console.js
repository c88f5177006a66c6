// tidbcloud-sim console: the product spec's Networking page (2.2.3 to 2.2.8).
//
// Every read and change goes through the public /v1beta1 API with HTTP
// Digest (SHA-256 via WebCrypto) and the key typed in the header; fetch uses
// credentials: 'omit', so the browser never shows a login prompt of its own.
// /_sim/events only patches what the API returned: a row's state and
// message; an id the page has not seen is fetched through the API; a row's
// detail (GET, with its attached domains) is loaded when its menu opens.
//
// DOM is built with createElement and textContent only.
'use strict';

(() => {
  const $ = (id) => document.getElementById(id);

  // ------------------------------------------------------------ helpers

  /** Whether a wire value is set: "", null, undefined and [] are absent. */
  function present(v) {
    return v !== undefined && v !== null && v !== '' && !(Array.isArray(v) && v.length === 0);
  }
  const list = (v) => (Array.isArray(v) ? v.filter(present) : []);

  /** An element with properties and children (strings become text nodes). */
  function el(tag, props, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(props || {})) {
      if (v === undefined || v === null) continue;
      if (k === 'class') e.className = v;
      else if (k === 'text') e.textContent = v;
      else if (k.startsWith('data-') || k.startsWith('aria-') || k === 'role') e.setAttribute(k, v);
      else e[k] = v;
    }
    for (const c of children.flat()) if (c !== null && c !== undefined && c !== false) e.append(c);
    return e;
  }

  const STATE_LABELS = {
    CREATING: 'Creating',
    ACTIVE: 'Active',
    FAILED: 'Failed',
    PENDING_ACCEPTANCE: 'Pending acceptance',
    DELETING: 'Deleting',
  };
  const TYPE_LABELS = {
    AWS_ENDPOINT_SERVICE: 'AWS Endpoint Service',
    ALICLOUD_ENDPOINT_SERVICE: 'AliCloud Endpoint Service',
  };
  const TYPE_OF_CLOUD = { aws: 'AWS_ENDPOINT_SERVICE', alicloud: 'ALICLOUD_ENDPOINT_SERVICE' };
  const DOMAIN_TYPE_LABELS = { TIDBCLOUD_MANAGED: 'TiDB Cloud managed', CONFLUENT: 'Confluent Cloud' };

  const stateLabel = (s) => (present(s) ? STATE_LABELS[s] || s : '--');
  const typeLabel = (t) => (present(t) ? TYPE_LABELS[t] || t : '--');

  const timeFormat = new Intl.DateTimeFormat('en-US', {
    month: 'short', day: 'numeric', year: 'numeric', hour: 'numeric', minute: '2-digit',
  });
  function when(s) {
    if (!present(s)) return '--';
    const d = new Date(s);
    return Number.isNaN(d.getTime()) ? String(s) : timeFormat.format(d);
  }

  let tips = 0;
  /** A status badge. A message comes with a "(?)" control that takes focus,
   * is named, and has the message as its description; the message shows
   * while the badge is hovered or the control has focus (Escape hides it). */
  function badge(state, message, label) {
    const status = el('span', { class: 'status', 'data-state': present(state) ? state : '' }, label(state));
    if (!present(message)) return status;
    tips += 1;
    const id = `tip-${tips}`;
    const text = el('span', { class: 'tooltip', role: 'tooltip', id, text: message });
    const control = el('button', {
      class: 'tip', type: 'button', text: '(?)',
      'aria-label': state === 'FAILED' ? 'Why it failed' : 'Message', 'aria-describedby': id,
    });
    const wrapper = el('span', { class: 'badge' }, status, text);
    control.addEventListener('keydown', (e) => {
      if (e.key === 'Escape' && !wrapper.classList.contains('quiet')) { wrapper.classList.add('quiet'); e.preventDefault(); e.stopPropagation(); }
    });
    control.addEventListener('blur', () => wrapper.classList.remove('quiet'));
    status.append(control);
    return wrapper;
  }

  function showError(node, text) {
    node.textContent = text || '';
    node.hidden = !text;
  }

  // ------------------------------------------------------ Digest over fetch

  class ApiError extends Error {
    constructor(status, message, trace) {
      super(message);
      this.status = status;
      this.trace = trace;
    }
    /** The API's own words, with the status and the trace id when given. */
    describe() {
      const trace = present(this.trace) ? ` (trace id ${this.trace})` : '';
      return this.status ? `${this.status}: ${this.message}${trace}` : this.message;
    }
  }

  const auth = { publicKey: $('public-key').value, privateKey: $('private-key').value, challenge: null, nc: 0 };

  /** The challenges of a WWW-Authenticate header (several may be joined by commas). */
  function parseChallenges(header) {
    const out = [];
    let current = null;
    let i = 0;
    const token = /^[A-Za-z0-9!#$%&'*+.^_`|~-]+/;
    while (i < header.length) {
      while (i < header.length && /[\s,]/.test(header[i])) i += 1;
      const m = token.exec(header.slice(i));
      if (!m) break;
      i += m[0].length;
      let j = i;
      while (header[j] === ' ' || header[j] === '\t') j += 1;
      if (header[j] !== '=') {
        current = { scheme: m[0].toLowerCase(), params: {} };
        out.push(current);
        continue;
      }
      i = j + 1;
      while (header[i] === ' ' || header[i] === '\t') i += 1;
      let value = '';
      if (header[i] === '"') {
        i += 1;
        while (i < header.length && header[i] !== '"') {
          if (header[i] === '\\') i += 1;
          value += header[i] || '';
          i += 1;
        }
        i += 1;
      } else {
        const v = /^[^,\s]*/.exec(header.slice(i))[0];
        value = v;
        i += v.length;
      }
      if (current) current.params[m[0].toLowerCase()] = value;
    }
    return out;
  }

  async function sha256(text) {
    const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text));
    return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
  }

  const quote = (s) => `"${String(s).replace(/[\\"]/g, '\\$&')}"`;

  /** The Authorization header for one request (RFC 7616, qop=auth, SHA-256). */
  async function authorization(method, uri) {
    const c = auth.challenge;
    auth.nc += 1;
    const nc = auth.nc.toString(16).padStart(8, '0');
    const cnonce = Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, '0')).join('');
    const ha1 = await sha256(`${auth.publicKey}:${c.realm}:${auth.privateKey}`);
    const ha2 = await sha256(`${method}:${uri}`);
    const response = await sha256(`${ha1}:${c.nonce}:${nc}:${cnonce}:auth:${ha2}`);
    let header = `Digest username=${quote(auth.publicKey)}, realm=${quote(c.realm)}, nonce=${quote(c.nonce)}, `
      + `uri=${quote(uri)}, algorithm=SHA-256, qop=auth, nc=${nc}, cnonce=${quote(cnonce)}, response=${quote(response)}`;
    if (c.opaque !== undefined) header += `, opaque=${quote(c.opaque)}`;
    return header;
  }

  async function send(method, uri, body) {
    if (!window.crypto || !crypto.subtle) {
      throw new ApiError(0, 'WebCrypto is not available: open the console on http://127.0.0.1 or http://localhost so the page can compute Digest authentication');
    }
    for (let attempt = 0; attempt < 4; attempt += 1) {
      const headers = { Accept: 'application/json' };
      if (body !== undefined) headers['Content-Type'] = 'application/json';
      const signed = auth.challenge !== null;
      if (signed) headers.Authorization = await authorization(method, uri);
      let response;
      try {
        response = await fetch(uri, {
          method, headers, credentials: 'omit', cache: 'no-store', redirect: 'error',
          body: body === undefined ? undefined : JSON.stringify(body),
        });
      } catch (e) {
        throw new ApiError(0, `the request could not be sent: ${e.message}`);
      }
      const text = await response.text();
      let json = null;
      try { json = text ? JSON.parse(text) : null; } catch (e) { json = null; }
      const trace = response.headers.get('X-Debug-Trace-Id');
      if (response.status === 401) {
        const offered = parseChallenges(response.headers.get('WWW-Authenticate') || '')
          .find((c) => c.scheme === 'digest' && (c.params.algorithm || '').toUpperCase() === 'SHA-256');
        if (!offered) throw new ApiError(401, 'the API offers no SHA-256 Digest challenge', trace);
        auth.challenge = offered.params;
        auth.nc = 0;
        const stale = (offered.params.stale || '').toLowerCase() === 'true';
        if (!signed || stale) continue;
      }
      if (!response.ok) {
        const message = json && present(json.message) ? json.message : (text || response.statusText);
        throw new ApiError(response.status, message, trace);
      }
      return json || {};
    }
    throw new ApiError(401, 'the API kept asking for authentication');
  }

  // One request at a time, so that Digest nonce counts reach the API in order.
  let queue = Promise.resolve();
  function api(method, uri, body) {
    const result = queue.then(() => send(method, uri, body));
    queue = result.catch(() => {});
    return result;
  }

  // --------------------------------------------------------------- model

  const clusterSelect = $('cluster');
  const tbody = document.querySelector('#connections tbody');
  const banner = $('error');
  const view = {
    clusterId: null,
    cluster: null,
    /** id -> { conn, tr, detail } in creation order. */
    rows: new Map(),
    loading: false,
    /** Events seen while a listing is under way, replayed after it. */
    backlog: [],
    /** Resolves when a create request has answered (new ids wait for it). */
    creating: Promise.resolve(),
    /** Ids being fetched -> events that came meanwhile, replayed after the GET. */
    fetching: new Map(),
    menuId: null,
    /** Why the cluster could not be read, when it could not. */
    clusterError: null,
    viewId: null,
    /** The latest listing; an older one that answers late is dropped. */
    generation: 0,
  };

  const base = () => `/v1beta1/clusters/${encodeURIComponent(view.clusterId)}`;
  const connPath = (id) => `${base()}/privateLinkConnections/${encodeURIComponent(id)}`;

  function cloud() {
    const region = view.cluster && view.cluster.region;
    return region && present(region.cloudProvider) ? String(region.cloudProvider).toLowerCase() : null;
  }

  // ---------------------------------------------------------------- list

  /** Builds a row's cells once; later renders update them in place, so the
   * action button a user is about to click survives state changes. */
  function buildRow(row) {
    const more = el('button', {
      class: 'more', type: 'button', text: '···', id: `more-${row.id}`,
      'aria-haspopup': 'menu', 'aria-controls': 'menu', 'aria-expanded': 'false', 'data-action': 'menu',
    });
    more.addEventListener('click', (e) => {
      e.stopPropagation();
      if (view.menuId === row.id && !menu.hidden) closeMenu(true); else openMenu(row.id, more, 'first');
    });
    more.addEventListener('keydown', (e) => {
      if (e.key !== 'ArrowDown' && e.key !== 'ArrowUp') return;
      e.preventDefault();
      openMenu(row.id, more, e.key === 'ArrowDown' ? 'first' : 'last');
    });
    row.cells = {
      name: el('td', { class: 'name' }),
      status: el('td'),
      time: el('td'),
      type: el('td'),
      more,
    };
    row.tr.dataset.id = row.id;
    row.tr.replaceChildren(row.cells.name, row.cells.status, row.cells.time, row.cells.type, el('td', { class: 'actions' }, more));
  }

  function renderRow(row) {
    const c = row.conn;
    const cells = row.cells;
    const name = present(c.displayName) ? c.displayName : row.id;
    row.tr.dataset.state = present(c.state) ? c.state : '';
    cells.name.textContent = name;
    cells.name.title = row.id;
    // Rebuilt only when it changes, so a focused "(?)" keeps focus.
    const shown = JSON.stringify([c.state, c.message]);
    if (cells.status.dataset.shown !== shown) {
      const focused = cells.status.contains(document.activeElement);
      cells.status.replaceChildren(badge(c.state, c.message, stateLabel));
      cells.status.dataset.shown = shown;
      if (focused) (cells.status.querySelector('.tip') || cells.more).focus();
    }
    cells.time.textContent = when(c.createTime);
    cells.time.title = present(c.createTime) ? c.createTime : '';
    cells.type.textContent = typeLabel(c.type);
    cells.more.setAttribute('aria-label', `Actions for ${name}`);
  }

  function renderCount() {
    const n = view.rows.size;
    $('count').textContent = `${n} result${n === 1 ? '' : 's'}`;
    if (n === 0 && view.clusterId) {
      if (!tbody.querySelector('td.empty')) {
        tbody.replaceChildren(el('tr', {}, el('td', { class: 'empty', colSpan: 5, text: 'No private link connections yet. Create one to reach your endpoint service.' })));
      }
    } else {
      const empty = tbody.querySelector('td.empty');
      if (empty) empty.parentElement.remove();
    }
  }

  function upsert(conn) {
    const id = conn.privateLinkConnectionId;
    if (!present(id) || (present(conn.clusterId) && conn.clusterId !== view.clusterId)) return;
    if (conn.state === 'DELETED') return;
    let row = view.rows.get(id);
    if (!row) {
      row = { id, conn, tr: el('tr'), detail: null };
      buildRow(row);
      view.rows.set(id, row);
      renderCount();
      tbody.append(row.tr);
    } else {
      // A GET carries attachedDomains, a list does not: keep what we know.
      row.conn = { ...row.conn, ...conn };
      if (!present(conn.message)) delete row.conn.message;
    }
    renderRow(row);
    renderCount();
    return row;
  }

  function removeRow(id) {
    const row = view.rows.get(id);
    if (!row) return;
    row.tr.remove();
    view.rows.delete(id);
    if (view.menuId === id) closeMenu(false);
    renderCount();
  }

  /** Forgets what was read of the cluster (with an earlier key, say): the
   * header keeps only the id the picker gave. */
  function forgetCluster(error) {
    view.cluster = null;
    view.clusterError = error;
    $('crumb-cluster').textContent = view.clusterId || '';
    $('cluster-info').textContent = '';
  }

  async function loadCluster() {
    const cluster = await api('GET', base());
    view.cluster = cluster;
    view.clusterError = null;
    const name = present(cluster.displayName) ? cluster.displayName : view.clusterId;
    const region = cluster.region || {};
    $('crumb-cluster').textContent = name;
    const parts = [
      `Cluster ${name} (${view.clusterId})`,
      present(region.displayName) ? region.displayName : region.regionId,
      present(region.cloudProvider) ? String(region.cloudProvider).toUpperCase() : null,
      present(cluster.state) ? cluster.state : null,
    ].filter(present);
    $('cluster-info').textContent = parts.join(' · ');
  }

  /** Fetches the cluster and every page of its connections, then replays events. */
  async function refresh() {
    if (!view.clusterId) { document.body.dataset.loaded = 'true'; return; }
    view.generation += 1;
    const generation = view.generation;
    const latest = () => generation === view.generation;
    view.loading = true;
    document.body.dataset.loaded = 'false';
    showError(banner, '');
    let read = false;
    try {
      await loadCluster();
      read = true;
      const all = [];
      let token = null;
      for (let page = 0; page < 1000; page += 1) {
        const query = new URLSearchParams({ pageSize: '100' });
        if (present(token)) query.set('pageToken', token);
        const answer = await api('GET', `${base()}/privateLinkConnections?${query}`);
        all.push(...list(answer.privateLinkConnections));
        token = answer.nextPageToken;
        if (!present(token)) break;
      }
      if (!latest()) return;
      closeMenu(false);
      tbody.replaceChildren();
      view.rows.clear();
      for (const conn of all) upsert(conn);
      renderCount();
    } catch (e) {
      if (!latest()) return;
      closeMenu(false);
      tbody.replaceChildren();
      view.rows.clear();
      $('count').textContent = '';
      const error = e instanceof ApiError ? e.describe() : String(e);
      if (!read) forgetCluster(error);
      showError(banner, error);
    } finally {
      if (latest()) {
        view.loading = false;
        const backlog = view.backlog;
        view.backlog = [];
        backlog.forEach(onEvent);
        document.body.dataset.loaded = 'true';
      }
    }
  }

  // -------------------------------------------------------- live updates

  /** Fetches a connection the page has not seen (after any create answered). */
  async function fetchNew(event) {
    const id = event.id;
    if (view.fetching.has(id)) { view.fetching.get(id).push(event); return; }
    view.fetching.set(id, []);
    try {
      await view.creating;
      if (!view.rows.has(id)) upsert(await api('GET', connPath(id)));
    } catch (e) {
      if (!(e instanceof ApiError && e.status === 404)) showError(banner, e.describe ? e.describe() : String(e));
    } finally {
      // Events that came during the GET are at least as new as its answer.
      const later = view.fetching.get(id) || [];
      view.fetching.delete(id);
      later.forEach(onEvent);
    }
  }

  function onEvent(event) {
    if (!event || event.cluster_id !== view.clusterId) return;
    if (view.loading) { view.backlog.push(event); return; }
    if (event.kind === 'cluster') {
      if (event.state !== 'DELETED' && view.cluster) {
        view.cluster.state = event.state;
        loadCluster().catch(() => {});
      }
      return;
    }
    if (event.kind === 'private_link_connection') {
      const row = view.rows.get(event.id);
      if (event.state === 'DELETED') { removeRow(event.id); return; }
      if (!row) { fetchNew(event); return; }
      row.conn.state = event.state;
      if (present(event.message)) row.conn.message = event.message; else delete row.conn.message;
      renderRow(row);
      if (view.menuId === event.id) renderMenu(row);
      if (view.viewId === event.id) renderDetail(row);
      return;
    }
    if (event.kind === 'attach_domain') {
      const id = event.private_link_connection_id;
      const row = view.rows.get(id);
      if (!row) return;
      row.detail = null;
      if (view.menuId === id || view.viewId === id) loadDetail(row);
    }
  }

  /** Subscribes to /_sim/events; resolves once subscribed (the first listing waits for it). */
  function listen() {
    const live = $('live');
    let opened = false;
    let subscribed;
    const ready = new Promise((resolve) => { subscribed = resolve; });
    const source = new EventSource('/_sim/events');
    source.onopen = () => {
      live.textContent = 'Live';
      document.body.dataset.live = 'true';
      // Reconnected: events may have been missed, so list again.
      if (opened) refresh();
      opened = true;
      subscribed();
    };
    source.onerror = () => {
      live.textContent = 'reconnecting…';
      document.body.dataset.live = 'false';
    };
    source.onmessage = (m) => {
      let event;
      try { event = JSON.parse(m.data); } catch (e) { return; }
      onEvent(event);
    };
    return ready;
  }

  // ---------------------------------------------------------------- menu

  const menu = $('menu');

  /** The attachments of a loaded detail, with their domains. */
  function attachments(detail) {
    return list(detail && detail.attachedDomains).filter((a) => present(a.attachDomainId) || present(a.domains));
  }

  async function loadDetail(row) {
    try {
      const detail = await api('GET', connPath(row.id));
      if (!view.rows.has(row.id)) return;
      row.detail = detail;
      row.conn = { ...row.conn, ...detail };
      if (!present(detail.message)) delete row.conn.message;
      renderRow(row);
      if (view.menuId === row.id) renderMenu(row);
      if (view.viewId === row.id) renderDetail(row);
    } catch (e) {
      if (view.menuId === row.id) {
        $('menu-note').hidden = false;
        $('menu-note').textContent = e.describe ? e.describe() : String(e);
      }
      if (e instanceof ApiError && e.status === 404) removeRow(row.id);
    }
  }

  /** The menu's items; those that are disabled are skipped by the arrow keys. */
  const menuItems = () => Array.from(menu.querySelectorAll('[role="menuitem"]'));
  /** The "···" the open menu belongs to. */
  let menuAnchor = null;
  /** Where focus goes once the detail has loaded, unless the user moved it. */
  let pendingFocus = null;

  /** Focuses the first or last usable item, or the next one (1) or previous one (-1), wrapping. */
  function focusItem(where) {
    const items = menuItems().filter((b) => !b.disabled);
    if (!items.length) return;
    const at = items.indexOf(document.activeElement);
    let i;
    if (where === 'first') i = 0;
    else if (where === 'last') i = items.length - 1;
    else if (at < 0) i = where > 0 ? 0 : items.length - 1;
    else i = (at + where + items.length) % items.length;
    items[i].focus();
  }

  function renderMenu(row) {
    const focused = menu.contains(document.activeElement) ? document.activeElement : null;
    const note = $('menu-note');
    const detach = $('menu-detach');
    const del = $('menu-delete');
    const attach = $('menu-attach');
    menu.dataset.loaded = row.detail ? 'true' : 'false';
    // Domains attach only to an ACTIVE connection (the API refuses otherwise).
    const inactive = row.conn.state === 'ACTIVE' ? ''
      : `Domains can be attached only to an Active connection; this one is ${stateLabel(row.conn.state)}.`;
    const notes = [];
    if (!row.detail) {
      for (const b of [attach, detach, del]) b.disabled = true;
      attach.title = inactive;
      notes.push('Loading attached domains…');
    } else {
      const attached = attachments(row.detail).length > 0;
      attach.disabled = attached || inactive !== '';
      attach.title = inactive || (attached ? 'Domains are attached once per connection: detach them first to attach others.' : '');
      detach.disabled = !attached;
      detach.title = attached ? '' : 'No domains are attached.';
      del.disabled = attached;
      del.title = attached ? 'Detach all domains before deleting this connection.' : '';
      if (inactive) notes.push(inactive);
      if (attached) notes.push('This connection has attached domains and cannot be deleted: detach all domains first.');
    }
    note.textContent = notes.join(' ');
    note.hidden = notes.length === 0;
    if (row.detail && pendingFocus && menu.contains(document.activeElement)) focusItem(pendingFocus);
    else if (focused && focused.disabled) focusItem('first');
    if (row.detail) pendingFocus = null;
  }

  /** Opens the menu of row `id` under its "···" with focus on its first or last item. */
  function openMenu(id, anchor, where) {
    const row = view.rows.get(id);
    if (!row) return;
    if (menuAnchor && menuAnchor !== anchor) menuAnchor.setAttribute('aria-expanded', 'false');
    view.menuId = id;
    menuAnchor = anchor;
    menu.dataset.id = id;
    menu.setAttribute('aria-labelledby', anchor.id);
    anchor.setAttribute('aria-expanded', 'true');
    const rect = anchor.getBoundingClientRect();
    menu.hidden = false;
    menu.style.top = `${window.scrollY + rect.bottom + 4}px`;
    menu.style.left = `${Math.max(8, window.scrollX + rect.right - menu.offsetWidth)}px`;
    row.detail = null;
    pendingFocus = where === 'last' ? 'last' : null;
    renderMenu(row);
    focusItem(where);
    loadDetail(row);
  }

  /** Closes the menu; with `refocus`, its "···" takes focus back. */
  function closeMenu(refocus) {
    const anchor = menuAnchor;
    menuAnchor = null;
    pendingFocus = null;
    if (anchor) {
      anchor.setAttribute('aria-expanded', 'false');
      if (refocus && anchor.isConnected) anchor.focus();
    }
    menu.hidden = true;
    view.menuId = null;
    delete menu.dataset.id;
  }

  // The WAI-ARIA menu button pattern: arrows, Home and End move between the
  // items, Escape closes the menu back to "···", Tab closes it and moves on
  // from "···" (the browser's own Tab, once "···" has focus again).
  menu.addEventListener('keydown', (e) => {
    if (e.altKey || e.ctrlKey || e.metaKey) return;
    switch (e.key) {
      case 'ArrowDown': focusItem(1); break;
      case 'ArrowUp': focusItem(-1); break;
      case 'Home': case 'PageUp': focusItem('first'); break;
      case 'End': case 'PageDown': focusItem('last'); break;
      case 'Escape': closeMenu(true); break;
      case 'Tab': closeMenu(true); return;
      default: return;
    }
    pendingFocus = null;
    e.preventDefault();
    e.stopPropagation();
  });
  // Focus that leaves for elsewhere closes it ("···" toggles it itself).
  menu.addEventListener('focusout', (e) => {
    const to = e.relatedTarget;
    if (!menu.hidden && to && !menu.contains(to) && to !== menuAnchor) closeMenu(false);
  });
  document.addEventListener('click', (e) => { if (!menu.hidden && !menu.contains(e.target)) closeMenu(false); });
  document.addEventListener('keydown', (e) => { if (e.key === 'Escape' && !menu.hidden) closeMenu(false); });

  /** Opens a row's dialog; when it closes, the row's "···" takes focus back. */
  function showDialog(dialog, row) {
    dialog.dataset.returnTo = row.id;
    dialog.showModal();
  }

  function fromMenu(open) {
    return () => {
      const row = view.rows.get(view.menuId);
      closeMenu(true);
      if (row) open(row);
    };
  }
  $('menu-view').addEventListener('click', fromMenu(openView));
  $('menu-attach').addEventListener('click', fromMenu(openAttach));
  $('menu-detach').addEventListener('click', fromMenu(openDetach));
  $('menu-delete').addEventListener('click', fromMenu(openDelete));

  // ------------------------------------------------------------- dialogs

  for (const dialog of document.querySelectorAll('dialog')) {
    for (const close of dialog.querySelectorAll('button.close')) {
      close.addEventListener('click', () => dialog.close());
    }
    dialog.addEventListener('close', () => {
      const row = view.rows.get(dialog.dataset.returnTo);
      delete dialog.dataset.returnTo;
      if (row && row.cells.more.isConnected) row.cells.more.focus();
    });
  }

  /** Runs an API action from a dialog: errors show in the dialog as they come. */
  async function act(button, errorNode, action) {
    showError(errorNode, '');
    button.disabled = true;
    try {
      await action();
      return true;
    } catch (e) {
      showError(errorNode, e instanceof ApiError ? e.describe() : String(e));
      return false;
    } finally {
      button.disabled = false;
    }
  }

  // Create (2.2.4).
  const create = {
    dialog: $('create-dialog'), name: $('create-name'), type: $('create-type'),
    service: $('create-service'), serviceField: $('create-service-field'),
    hint: $('create-hint'), error: $('create-error'), submit: $('create-submit'),
    zones: null,
  };

  function renderHint() {
    const type = create.type.value;
    create.serviceField.hidden = !type;
    if (!type) { create.hint.hidden = true; return; }
    create.hint.hidden = false;
    if (create.zones instanceof ApiError) {
      create.hint.textContent = `The availability zones could not be read: ${create.zones.describe()}`;
      return;
    }
    if (!create.zones) { create.hint.textContent = 'Reading the availability zones…'; return; }
    const account = present(create.zones.accountId) ? create.zones.accountId : '<account_id>';
    const zones = list(create.zones.azIds);
    const codes = [];
    zones.forEach((z, i) => { if (i) codes.push(', '); codes.push(el('code', { text: z })); });
    if (type === 'ALICLOUD_ENDPOINT_SERVICE') {
      create.hint.replaceChildren('Please make sure the endpoint service adds ', el('code', { text: `acs:ram:*:${account}:*` }),
        ' to the whitelist and has at least one of the following azs: ', ...codes);
    } else {
      create.hint.replaceChildren('Please make sure the endpoint service allows the ', el('code', { text: `arn:aws:iam::${account}:root` }),
        ' principal and has at least one of the following azs: ', ...codes);
    }
  }

  function openCreate() {
    const type = TYPE_OF_CLOUD[cloud()];
    create.name.value = '';
    create.service.value = '';
    showError(create.error, '');
    create.type.replaceChildren(
      el('option', { value: '', text: 'Select a connection type', disabled: true, selected: true }),
      ...(type ? [el('option', { value: type, text: typeLabel(type) })] : []),
    );
    create.zones = null;
    renderHint();
    create.dialog.showModal();
    api('GET', `${base()}/privateLinkConnections:getAvailabilityZones`)
      .then((zones) => { create.zones = zones; })
      .catch((e) => { create.zones = e instanceof ApiError ? e : new ApiError(0, String(e)); })
      .finally(renderHint);
  }
  create.type.addEventListener('change', renderHint);
  $('create').addEventListener('click', () => {
    if (!view.cluster) {
      showError(banner, view.clusterError
        ? `The cluster could not be read, so no connection can be created in it: ${view.clusterError}\nUse a valid API key, then Create again.`
        : 'The cluster is still being read: Create again in a moment.');
      return;
    }
    openCreate();
  });

  create.submit.addEventListener('click', () => {
    const type = create.type.value;
    const input = { displayName: create.name.value };
    if (type) input.type = type;
    const endpoint = { name: create.service.value };
    if (type === 'ALICLOUD_ENDPOINT_SERVICE') input.alicloudEndpointService = endpoint;
    else input.awsEndpointService = endpoint;
    let done;
    view.creating = new Promise((resolve) => { done = resolve; });
    act(create.submit, create.error, async () => {
      const conn = await api('POST', `${base()}/privateLinkConnections`, { privateLinkConnection: input });
      upsert(conn);
      create.dialog.close();
    }).finally(() => done());
  });

  // View (2.2.5).
  function openView(row) {
    view.viewId = row.id;
    renderDetail(row);
    showDialog($('view-dialog'), row);
    if (!row.detail) loadDetail(row);
  }
  $('view-dialog').addEventListener('close', () => { view.viewId = null; });

  function renderDetail(row) {
    const c = row.conn;
    const name = present(c.displayName) ? c.displayName : row.id;
    $('view-title').textContent = `${name} Detail`;
    const service = c.awsEndpointService || c.alicloudEndpointService || {};
    const line = (label, value) => el('tr', {}, el('th', { text: label }), el('td', {}, value));
    const rows = [
      line('Name', name),
      line('Id', row.id),
      line('Status', badge(c.state, c.message, stateLabel)),
      line('Type', typeLabel(c.type)),
      line('Endpoint service name', present(service.name) ? service.name : '--'),
      line('Available zones', list(service.availabilityZoneIds).join(' ') || '--'),
    ];
    if (present(service.region)) rows.push(line('Region', service.region));
    if (present(service.endpointId)) rows.push(line('Endpoint id', service.endpointId));
    rows.push(
      line('Creation time', when(c.createTime)),
      line('Created by', present(c.createdBy) ? c.createdBy : '--'),
      line('Fail message', present(c.message) ? c.message : '--'),
    );
    // The domain list goes under the table, full width (domain names are long).
    let summary;
    const sections = [];
    if (!row.detail) {
      summary = 'Loading…';
    } else {
      const attached = attachments(row.detail);
      summary = attached.length ? [] : '--';
      for (const a of attached) {
        summary.push(el('div', {
          text: [DOMAIN_TYPE_LABELS[a.type] || a.type, a.uniqueName, a.attachDomainId].filter(present).join(' · '),
        }));
        sections.push(el('table', { class: 'subtable' },
          el('thead', {}, el('tr', {}, el('th', { text: 'Domain' }), el('th', { text: 'Status' }), el('th', { text: 'Creation time' }))),
          el('tbody', {}, list(a.domains).map((d) => el('tr', { 'data-domain': present(d.name) ? d.name : '' },
            el('td', { class: 'domain', text: present(d.name) ? d.name : '--' }),
            // Domain state words are shown as the API gives them.
            el('td', {}, badge(d.state, d.message, (s) => (present(s) ? s : '--'))),
            el('td', { class: 'time', text: when(a.createTime) }))))));
      }
    }
    rows.push(line('Attached domains', summary));
    $('view-body').replaceChildren(el('table', { class: 'detail' }, el('tbody', {}, rows)), ...sections);
  }

  // Attach domains (2.2.7).
  const attach = {
    dialog: $('attach-dialog'), type: $('attach-type'), unique: $('attach-unique'),
    uniqueField: $('attach-unique-field'), generate: $('attach-generate'), preview: $('attach-preview'),
    error: $('attach-error'), submit: $('attach-submit'), row: null, previewed: null,
  };

  function resetPreview() {
    attach.previewed = null;
    attach.preview.replaceChildren();
    attach.submit.disabled = true;
  }

  function openAttach(row) {
    attach.row = row;
    const aws = row.conn.type === 'AWS_ENDPOINT_SERVICE';
    attach.type.replaceChildren(
      el('option', { value: '', text: 'Select an option', disabled: true, selected: true }),
      el('option', { value: 'TIDBCLOUD_MANAGED', text: DOMAIN_TYPE_LABELS.TIDBCLOUD_MANAGED }),
      ...(aws ? [el('option', { value: 'CONFLUENT', text: DOMAIN_TYPE_LABELS.CONFLUENT })] : []),
    );
    $('attach-target').textContent = `${present(row.conn.displayName) ? row.conn.displayName : row.id} · ${typeLabel(row.conn.type)}`;
    attach.unique.value = '';
    attach.uniqueField.hidden = true;
    showError(attach.error, '');
    resetPreview();
    showDialog(attach.dialog, row);
  }

  attach.type.addEventListener('change', () => {
    attach.uniqueField.hidden = attach.type.value !== 'CONFLUENT';
    resetPreview();
  });
  attach.unique.addEventListener('input', resetPreview);

  function attachBody(validateOnly) {
    const input = { type: attach.type.value || undefined };
    const unique = validateOnly ? (attach.type.value === 'CONFLUENT' ? attach.unique.value : '') : attach.previewed.uniqueName;
    if (unique) input.uniqueName = unique;
    return validateOnly ? { attachDomain: input, validateOnly: true } : { attachDomain: input };
  }

  attach.generate.addEventListener('click', () => {
    resetPreview();
    const row = attach.row;
    act(attach.generate, attach.error, async () => {
      const preview = await api('POST', `${connPath(row.id)}:attachDomains`, attachBody(true));
      attach.previewed = preview;
      attach.preview.replaceChildren(...list(preview.domains).map((d) => el('li', {}, el('code', { text: d.name }))));
      attach.submit.disabled = false;
    });
  });

  attach.submit.addEventListener('click', () => {
    const row = attach.row;
    act(attach.submit, attach.error, async () => {
      await api('POST', `${connPath(row.id)}:attachDomains`, attachBody(false));
      row.detail = null;
      attach.dialog.close();
    }).then((ok) => { if (!ok) attach.submit.disabled = !attach.previewed; });
  });

  // Detach (2.2.8).
  const detach = { dialog: $('detach-dialog'), list: $('detach-list'), error: $('detach-error'), submit: $('detach-submit'), row: null };

  function openDetach(row) {
    detach.row = row;
    const names = attachments(row.detail).flatMap((a) => list(a.domains).map((d) => d.name)).filter(present);
    detach.list.replaceChildren(...names.map((n) => el('li', {}, el('code', { text: n }))));
    showError(detach.error, '');
    showDialog(detach.dialog, row);
  }

  detach.submit.addEventListener('click', () => {
    const row = detach.row;
    act(detach.submit, detach.error, async () => {
      for (const a of attachments(row.detail)) {
        await api('POST', `${connPath(row.id)}:detachDomains`, { attachDomainId: a.attachDomainId });
      }
      row.detail = null;
      detach.dialog.close();
    });
  });

  // Delete (2.2.6).
  const del = { dialog: $('delete-dialog'), error: $('delete-error'), submit: $('delete-submit'), row: null };

  function openDelete(row) {
    del.row = row;
    $('delete-name').textContent = present(row.conn.displayName) ? row.conn.displayName : row.id;
    showError(del.error, '');
    showDialog(del.dialog, row);
  }

  del.submit.addEventListener('click', () => {
    const row = del.row;
    act(del.submit, del.error, async () => {
      const conn = await api('DELETE', connPath(row.id));
      if (view.rows.has(row.id)) upsert(conn);
      del.dialog.close();
    });
  });

  // ------------------------------------------------------------- header

  $('key').addEventListener('submit', (e) => {
    e.preventDefault();
    auth.publicKey = $('public-key').value;
    auth.privateKey = $('private-key').value;
    refresh();
  });
  $('refresh').addEventListener('click', () => refresh());

  function selectCluster(id) {
    view.clusterId = id || null;
    view.cluster = null;
    view.clusterError = null;
    closeMenu(false);
    const url = new URL(window.location.href);
    if (id) url.searchParams.set('cluster', id); else url.searchParams.delete('cluster');
    window.history.replaceState(null, '', url);
    refresh();
  }
  clusterSelect.addEventListener('change', () => selectCluster(clusterSelect.value));

  const wanted = new URL(window.location.href).searchParams.get('cluster');
  if (wanted && Array.from(clusterSelect.options).some((o) => o.value === wanted)) clusterSelect.value = wanted;
  // The first listing starts once the event stream is open, so no change falls between them.
  const subscribed = listen();
  const timeout = new Promise((resolve) => { setTimeout(resolve, 3000); });
  Promise.race([subscribed, timeout]).then(() => selectCluster(clusterSelect.value));
})();
