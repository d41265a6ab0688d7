/*
 * geo_dx page code: place context (roads, towns, commune names), labels that do not pile
 * up, a print button, a metric scale bar, popups that fit a phone and maps that redraw
 * for printing. Part of geo_dx (MIT licence); needs Leaflet 1.9 and geo_dx_map.js.
 *
 * geoDxMap.build calls geoDxPage.drawContext(state, renderer) after drawing the communes and
 * geoDxPage.attach(state) once everything is drawn.
 * Names from the data are put in the page with textContent, never as HTML.
 */
(function (root) {
  'use strict';

  // Commune seats are named from this zoom on (their commune's name is shown before).
  var SEAT_LABEL_ZOOM = 10.5;
  // Villages are named from this zoom on a map page (always on a dossier and in print).
  var VILLAGE_LABEL_ZOOM = 12;

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text !== undefined && text !== null) { e.textContent = String(text); }
    return e;
  }

  function label(state, key, fallback) {
    var labels = state.data.labels || {};
    return labels[key] !== undefined ? labels[key] : fallback;
  }

  // Centre a label on its point whatever the text's width (measured again after fonts load);
  // a label with geoDxRight set starts that many pixels right of its point (a village name).
  function centre(node, right) {
    node.style.marginLeft = (right === undefined ? -node.offsetWidth / 2 : right) + 'px';
    node.style.marginTop = (-node.offsetHeight / 2) + 'px';
  }

  // A text label as a marker that never catches the mouse.
  function textMarker(latlng, cls, text, pane) {
    var icon = L.divIcon({className: cls, html: '', iconSize: null});
    var m = L.marker(latlng, {icon: icon, interactive: false, keyboard: false, pane: pane});
    m.on('add', function () {
      var node = m.getElement();
      node.textContent = text;
      centre(node, m.options.geoDxRight);
    });
    return m;
  }

  // Relief shading: an embedded PNG under every vector layer.
  function drawRelief(state) {
    var relief = state.data.context && state.data.context.relief;
    var group = state.groups.relief;
    if (!relief || !group) { return; }
    // Smoothly scaled (the coverage raster's overlay makes image layers pixelated).
    L.imageOverlay(relief.png, relief.bounds, {pane: 'geodx-relief', interactive: false,
                                               className: 'geodx-relief-image'}).addTo(group);
  }

  function drawRoads(state, renderer) {
    var roads = state.data.context && state.data.context.roads;
    var group = state.groups.roads;
    if (!roads || !group) { return; }
    // Local roads first, main roads on top.
    [1, 0].forEach(function (kind) {
      for (var i = 0; i < roads.lines.length; i++) {
        if (roads.kind[i] !== kind) { continue; }
        L.polyline(roads.lines[i], {
          renderer: renderer, interactive: false, color: kind === 0 ? '#b4652f' : '#8a7a6a',
          weight: kind === 0 ? 1.8 : 0.9, opacity: kind === 0 ? 0.85 : 0.6
        }).addTo(group);
      }
    });
  }

  function drawTowns(state, renderer, labels) {
    var towns = state.data.context && state.data.context.towns;
    var group = state.groups.towns;
    if (!towns || !group) { return; }
    for (var i = 0; i < towns.name.length; i++) {
      var capital = towns.kind[i] === 'capital' || towns.kind[i] === 'city';
      L.circleMarker([towns.lat[i], towns.lon[i]], {
        renderer: renderer, interactive: false, radius: capital ? 5 : 3.5, color: '#111',
        weight: 1.5, fillColor: '#ffffff', fillOpacity: 1
      }).addTo(group);
      if (towns.name[i]) {
        var m = textMarker([towns.lat[i], towns.lon[i]],
                           'geodx-town-label' + (capital ? ' geodx-town-label-capital' : ''),
                           towns.name[i], 'geodx-labels');
        m.options.geoDxPriority = capital ? 1 : 3;
        m.options.geoDxMinZoom = capital ? 0 : SEAT_LABEL_ZOOM;
        m.addTo(group);
        labels.push(m);
      }
    }
  }

  // The national overview: one label per area (name, counts, its plan) that opens its map,
  // up to AREA_LABEL_ZOOM; commune names take over from there.
  var AREA_LABEL_ZOOM = 8;

  function drawAreaLabels(state, labels) {
    var a = state.data.context && state.data.context.areaLabels;
    if (!a) { return; }
    var group = L.layerGroup().addTo(state.map);
    for (var i = 0; i < a.name.length; i++) {
      var m = textMarker([a.lat[i], a.lon[i]], 'geodx-area-label',
                         a.name[i] + '\n' + a.detail[i], 'geodx-labels');
      m.options.geoDxPriority = 1;
      m.options.geoDxMaxZoom = AREA_LABEL_ZOOM;
      (function (href, marker) {
        marker.on('add', function () {
          marker.getElement().addEventListener('click', function () {
            root.location.href = href;
          });
        });
      })(a.href[i], m);
      m.addTo(group);
      labels.push(m);
    }
  }

  function drawCommuneLabels(state, labels) {
    var ctx = state.data.context;
    var group = state.groups.communeLabels;
    if (!ctx || !ctx.communeLabels || !group) { return; }
    var c = ctx.communeLabels;
    for (var i = 0; i < c.name.length; i++) {
      var m = textMarker([c.lat[i], c.lon[i]], 'geodx-commune-label', c.name[i], 'geodx-labels');
      m.options.geoDxPriority = 2;
      if (ctx.areaLabels) { m.options.geoDxMinZoom = AREA_LABEL_ZOOM; }
      m.addTo(group);
      labels.push(m);
    }
  }

  function overlaps(a, b) {
    return a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;
  }

  // Show each label only where it covers no label of higher priority (plan item ids and
  // rank labels always; then areas, the provincial capital, commune names, commune seats,
  // village names).
  function declutter(state, labels) {
    var items = [];
    state.map.eachLayer(function (l) {
      if (!l.options || !l.getElement || !l.getElement()) { return; }
      if (l.options.geoDxPlanLabel !== undefined) {  // plan items always keep their ids
        items.push({node: l.getElement(), priority: -1, order: l.options.geoDxPlanLabel,
                    fixed: true});
      } else if (l.options.geoDxRank !== undefined) {
        items.push({node: l.getElement(), priority: 0, order: l.options.geoDxRank});
      }
    });
    var zoom = state.map.getZoom();
    labels.forEach(function (m, i) {
      var node = m.getElement && m.getElement();
      if (!node || !state.map.hasLayer(m)) { return; }
      var max = m.options.geoDxMaxZoom === undefined ? Infinity : m.options.geoDxMaxZoom;
      if ((zoom < (m.options.geoDxMinZoom || 0) || zoom >= max) && !state.printingNow) {
        node.style.visibility = 'hidden';
        return;
      }
      centre(node, m.options.geoDxRight);
      items.push({node: node, priority: m.options.geoDxPriority, order: i});
    });
    items.sort(function (a, b) { return a.priority - b.priority || a.order - b.order; });
    var placed = [];
    items.forEach(function (it) {
      it.node.style.visibility = '';
      var r = it.node.getBoundingClientRect();
      var pad = {left: r.left - 2, right: r.right + 2, top: r.top - 1, bottom: r.bottom + 1};
      // (plan ids and rank labels are both always shown: they do not hide each other)
      var hit = !it.fixed && placed.some(function (p) {
        return overlaps(p, pad) && !(p.fixed && it.priority === 0);
      });
      pad.fixed = it.fixed;
      if (hit) { it.node.style.visibility = 'hidden'; } else { placed.push(pad); }
    });
  }

  // Village names, best-ranked first where labels compete for room: on a map page from
  // VILLAGE_LABEL_ZOOM, on a dossier and in print always; only for villages shown.
  function villageLabels(state, labels, dossier) {
    var map = state.map, group = L.layerGroup(), made = null;
    function make() {
      var order = state.rows.map(function (r, i) { return i; });
      order.sort(function (a, b) {
        var ra = state.rows[a].rank, rb = state.rows[b].rank;
        return (ra === null ? Infinity : ra) - (rb === null ? Infinity : rb);
      });
      made = [];
      order.forEach(function (i) {
        var row = state.rows[i], marker = state.markers[i];
        var m = textMarker([row.lat, row.lon], 'geodx-village-label', row.name, 'geodx-labels');
        m.options.geoDxPriority = 4;
        m.options.geoDxRight = (marker ? marker.options.radius : 4) + 3;
        m.options.geoDxLabelOf = i;
        made.push(m);
        labels.push(m);
      });
    }
    state.syncVillageLabels = function () {
      var want = dossier || state.printingNow || map.getZoom() >= VILLAGE_LABEL_ZOOM;
      if (!want) {
        if (map.hasLayer(group)) { map.removeLayer(group); }
        return;
      }
      if (!made) { make(); }
      made.forEach(function (m) {
        var shown = map.hasLayer(state.markers[m.options.geoDxLabelOf]);
        if (shown && !group.hasLayer(m)) { group.addLayer(m); }
        if (!shown && group.hasLayer(m)) { group.removeLayer(m); }
      });
      if (!map.hasLayer(group)) { group.addTo(map); }
    };
  }

  function printControl(state) {
    var ctl = L.control({position: 'topleft'});
    ctl.onAdd = function () {
      var box = el('div', 'geodx-print leaflet-bar leaflet-control');
      var a = el('a', 'geodx-print-button');
      a.href = '#';
      a.setAttribute('role', 'button');
      a.title = label(state, 'print', 'Print / save as PDF');
      a.setAttribute('aria-label', a.title);
      a.appendChild(el('span', 'geodx-print-icon'));
      L.DomEvent.on(a, 'click', function (e) { L.DomEvent.stop(e); root.print(); });
      L.DomEvent.disableClickPropagation(box);
      box.appendChild(a);
      return box;
    };
    return ctl;
  }

  // Popups no wider or taller than the map leaves room for (phones): on a narrow map the
  // popup may pan over the buttons on the left rather than off the right edge.
  function fitPopups(state) {
    if (!state.popup) { return; }
    var size = state.map.getSize(), o = state.popup.options;
    var narrow = size.x < 560;
    o.maxWidth = Math.max(180, Math.min(320, size.x - 80));
    o.minWidth = Math.min(220, o.maxWidth);
    o.maxHeight = Math.max(160, size.y - 170);
    o.autoPanPaddingTopLeft = narrow ? L.point(10, 60) : L.point(60, 80);
    o.autoPanPaddingBottomRight = narrow ? L.point(10, 20) : L.point(20, 20);
  }

  function panes(map) {
    if (map.getPane('geodx-relief')) { return; }
    map.createPane('geodx-relief').style.zIndex = 250;
    map.getPane('geodx-relief').style.pointerEvents = 'none';
    map.createPane('geodx-labels').style.zIndex = 590;
    map.getPane('geodx-labels').style.pointerEvents = 'none';
  }

  // Called by geoDxMap.build after the communes and before the villages, with the shared
  // canvas renderer, so roads and towns sit between the two.
  function drawContext(state, renderer) {
    panes(state.map);
    var labels = [];
    drawRelief(state);
    drawRoads(state, renderer);
    drawTowns(state, renderer, labels);
    drawAreaLabels(state, labels);
    drawCommuneLabels(state, labels);
    state.contextLabels = labels;
  }

  // Printing. Chromium captures the page right after `beforeprint` with no frame in
  // between, and prints a canvas drawn during that event as a blank white sheet (it hid the
  // villages, communes, roads and relief under it). So for printing, every vector layer moves
  // to one SVG renderer (vectors, sharp at any resolution), the map takes its printed size
  // (--geodx-print-width/height in geo_dx_page.css) and is fitted before the capture:
  // a map page keeps what the screen showed, a dossier shows its whole commune.
  // `afterprint` puts everything back.
  function printSize(map) {
    var css = getComputedStyle(map.getContainer());
    return {width: css.getPropertyValue('--geodx-print-width').trim(),
            height: css.getPropertyValue('--geodx-print-height').trim()};
  }

  function canvasPaths(map) {
    var renderers = [], paths = [];
    map.eachLayer(function (l) { if (l instanceof L.Canvas) { renderers.push(l); } });
    renderers.forEach(function (r) {
      for (var o = r._drawFirst; o; o = o.next) { paths.push(o.layer); }  // drawing order
    });
    return paths;
  }

  function moveTo(map, paths, renderer) {
    paths.forEach(function (p) {
      if (!map.hasLayer(p)) { return; }
      map.removeLayer(p);
      p.options.renderer = renderer;
      map.addLayer(p);
    });
  }

  // What the printed map shows: a dossier its commune; a map page the part of its data the
  // screen showed (all of it as first opened), else the screen's view.
  function printBounds(state, screen, dossier) {
    var data = state.data.bounds && L.latLngBounds(state.data.bounds);
    if (!data) { return screen; }
    if (dossier) { return data; }
    if (!screen.intersects(data)) { return screen; }
    return L.latLngBounds(
      [Math.max(screen.getSouth(), data.getSouth()), Math.max(screen.getWest(), data.getWest())],
      [Math.min(screen.getNorth(), data.getNorth()), Math.min(screen.getEast(), data.getEast())]);
  }

  function printing(state) {
    var map = state.map, box = map.getContainer(), saved = null;
    var dossier = document.body.className.indexOf('geodx-doc') !== -1;
    var before = function () {
      if (saved) { return; }
      var size = printSize(map);
      saved = {center: map.getCenter(), zoom: map.getZoom(), bounds: map.getBounds(),
               width: box.style.width, height: box.style.height, paths: canvasPaths(map)};
      saved.renderers = saved.paths.map(function (p) { return p.options.renderer; });
      if (size.width && size.height) {
        box.style.width = size.width;
        box.style.height = size.height;
      }
      L.DomUtil.addClass(box, 'geodx-printing');
      state.printingNow = true;
      map.invalidateSize({animate: false, pan: false});
      // (clear of the title, top right on a map page)
      var title = dossier ? null : box.querySelector('.geodx-title');
      map.fitBounds(printBounds(state, saved.bounds, dossier), {
        paddingTopLeft: [10, 10], animate: false,
        paddingBottomRight: [title ? title.offsetWidth + 20 : 10, 10]});
      state.svg = state.svg || L.svg({padding: 0.3});
      moveTo(map, saved.paths, state.svg);
      state.declutter();
    };
    var after = function () {
      if (!saved) { return; }
      var s = saved;
      saved = null;
      s.paths.forEach(function (p, i) {
        if (!map.hasLayer(p)) { p.options.renderer = s.renderers[i]; return; }
        map.removeLayer(p);
        p.options.renderer = s.renderers[i];
        map.addLayer(p);
      });
      box.style.width = s.width;
      box.style.height = s.height;
      L.DomUtil.removeClass(box, 'geodx-printing');
      state.printingNow = false;
      map.invalidateSize({animate: false, pan: false});
      map.setView(s.center, s.zoom, {animate: false});
      state.declutter();
    };
    root.addEventListener('beforeprint', before);
    root.addEventListener('afterprint', after);
    state.print = {before: before, after: after};
  }

  // Called by geoDxMap.build once everything is drawn.
  function attach(state) {
    var map = state.map;
    var labels = state.contextLabels || [];
    L.control.scale({imperial: false, metric: true, position: 'bottomleft'}).addTo(map);
    printControl(state).addTo(map);
    fitPopups(state);
    // On a phone an open popup takes the screen: the buttons above it step aside (CSS)
    // instead of covering its text, and come back when it closes.
    var box = map.getContainer();
    map.on('popupopen', function () { L.DomUtil.addClass(box, 'geodx-popup-open'); });
    map.on('popupclose', function () { L.DomUtil.removeClass(box, 'geodx-popup-open'); });

    // Place labels once the map has settled (after zoom animations and font loading).
    villageLabels(state, labels, document.body.className.indexOf('geodx-doc') !== -1);
    var timer = null;
    var now = function () {
      clearTimeout(timer);
      state.syncVillageLabels();
      declutter(state, labels);
    };
    var redo = function () { clearTimeout(timer); timer = setTimeout(now, 60); };
    map.on('zoomend moveend overlayadd overlayremove resize', redo);
    map.whenReady(redo);
    root.addEventListener('load', redo);
    if (document.fonts && document.fonts.ready) { document.fonts.ready.then(redo); }
    state.declutter = now;

    printing(state);
    root.addEventListener('resize', function () { fitPopups(state); });
  }

  root.geoDxPage = {drawContext: drawContext, attach: attach, declutter: declutter};
})(window);
