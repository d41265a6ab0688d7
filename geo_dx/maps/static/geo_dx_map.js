/*
 * geo_dx map layers: villages, communes, coverage, legend, title and search.
 * Part of geo_dx (MIT licence). Inlined into every map geo_dx writes; needs Leaflet 1.9.
 *
 * Every string that comes from input data is put into the page with textContent (never
 * innerHTML), so a village whose name looks like an HTML tag shows as that text.
 */
(function (root) {
  'use strict';

  // Most pixels between a village found by search and the ridge that blocks its site.
  var RIDGE_PX = 70;

  // Every text shown comes from data.labels (geo_dx/map_payload.py, LABELS).
  var T = {};

  // '{n} villages' with {n: 3} -> '3 villages'.
  function fmt(template, values) {
    return String(template).replace(/\{(\w+)\}/g, function (m, key) {
      return values[key] === undefined ? m : String(values[key]);
    });
  }

  // Named columns ({lat: [...], name: [...], contrib: {severity: [...]}}) as one object per
  // row ({lat: .., name: .., contrib: {severity: ..}}).
  function rowsOf(columns) {
    var keys = Object.keys(columns), n = 0, rows = [], i, k;
    for (k = 0; k < keys.length; k++) {
      if (Array.isArray(columns[keys[k]])) { n = columns[keys[k]].length; break; }
    }
    for (i = 0; i < n; i++) {
      var row = {};
      for (k = 0; k < keys.length; k++) {
        var col = columns[keys[k]];
        if (Array.isArray(col)) {
          row[keys[k]] = col[i];
        } else {
          row[keys[k]] = {};
          for (var sub in col) { row[keys[k]][sub] = col[sub][i]; }
        }
      }
      rows.push(row);
    }
    return rows;
  }

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text !== undefined && text !== null) { e.textContent = String(text); }
    return e;
  }

  // Numbers the reader's way: separators and percent sign from data.numberFormat (Babel).
  var NF = {decimal: '.', group: ',', percent: '{n}%'};

  function fmtFixed(x, decimals) {
    var parts = Math.abs(x).toFixed(decimals).split('.');
    var whole = parts[0].replace(/\B(?=(\d{3})+(?!\d))/g, NF.group);
    return (x < 0 && Number(parts.join('.')) !== 0 ? '-' : '') + whole +
      (parts.length > 1 ? NF.decimal + parts[1] : '');
  }

  function fmtDistance(m) {
    if (m === null || m === undefined) { return T.none_known; }
    if (m < 1000) { return fmtFixed(Math.round(m), 0) + ' m'; }
    return fmtFixed(m / 1000, m < 10000 ? 1 : 0) + ' km';
  }

  function fmtNumber(x) {
    if (x === null || x === undefined) { return T.unknown; }
    return fmtFixed(Math.round(x), 0);
  }

  function fmtPercent(n) {
    return fmt(NF.percent, {n: n});
  }

  function fmtShare(x) {
    if (x === null || x === undefined) { return T.unknown; }
    return fmtPercent(Math.round(x * 100));
  }

  function fold(s) {
    return String(s).normalize('NFD').replace(/[\u0300-\u036f]/g, '')
      .replace(/\u0111/g, 'd').replace(/\u0110/g, 'D').toLowerCase();
  }

  function addRow(table, label, value) {
    var tr = el('tr');
    tr.appendChild(el('th', null, label));
    tr.appendChild(el('td', null, value));
    table.appendChild(tr);
  }

  // Pan at once so the open popup, and the ridge it marks, are on the map clear of its
  // edges (the popup's auto-pan padding); a popup too tall for both scrolls its text.
  function fitOpen(map, popup, ridge) {
    var element = popup.getElement();
    var wrapper = element && element.querySelector('.leaflet-popup-content-wrapper');
    if (!wrapper) { return; }
    var content = wrapper.querySelector('.leaflet-popup-content');
    var o = popup.options, size = map.getSize();
    var tl = L.point(o.autoPanPaddingTopLeft || [5, 5]);
    var br = L.point(o.autoPanPaddingBottomRight || [5, 5]);
    function extent() {
      var origin = map.getContainer().getBoundingClientRect();
      var r = wrapper.getBoundingClientRect();
      var box = {left: r.left - origin.left, right: r.right - origin.left,
                 top: r.top - origin.top, bottom: r.bottom - origin.top};
      if (ridge) {
        var p = map.latLngToContainerPoint(ridge);
        box = {left: Math.min(box.left, p.x - 12), right: Math.max(box.right, p.x + 12),
               top: Math.min(box.top, p.y - 12), bottom: Math.max(box.bottom, p.y + 12)};
      }
      return box;
    }
    var box = extent();
    var extra = box.bottom - box.top - (size.y - tl.y - br.y);
    if (extra > 0 && content) {
      var before = wrapper.offsetHeight;
      content.style.maxHeight = Math.max(120, content.offsetHeight - extra) + 'px';
      if (L.DomUtil.hasClass(element, 'geodx-popup-below')) {
        // Leaflet places a popup by its bottom: lift it by what it lost, so that its top
        // stays just below the village.
        var offset = L.point(o.offset);
        o.offset = L.point(offset.x, offset.y - (before - wrapper.offsetHeight));
        popup.update();
      }
      box = extent();
    }
    var dx = 0, dy = 0;
    if (box.left < tl.x || box.right - box.left > size.x - tl.x - br.x) {
      dx = box.left - tl.x;
    } else if (box.right > size.x - br.x) {
      dx = box.right - (size.x - br.x);
    }
    if (box.top < tl.y) {
      dy = box.top - tl.y;
    } else if (box.bottom > size.y - br.y) {
      dy = Math.min(box.bottom - (size.y - br.y), box.top - tl.y);
    }
    if (dx || dy) { map.panBy([dx, dy], {animate: false}); }
  }

  function villagePopup(data, row) {
    var cls = data.classByKey[row.gapClass || row.gap] || data.classByKey[row.gap];
    var box = el('div', 'geodx-popup');
    box.appendChild(el('div', 'geodx-popup-name', row.name));
    var t = el('table', 'geodx-popup-table');
    addRow(t, T.commune, row.commune === null ? T.unknown : row.commune);
    addRow(t, T.gap, cls.label);
    addRow(t, T.nearest_fibre, fmtDistance(row.nearestFibreM));
    addRow(t, T.nearest_mobile, fmtDistance(row.nearestMobileM));
    if (row.tech !== null) { addRow(t, T.best_mobile, row.tech); }
    if (row.signalDbm !== null && row.signalDbm !== undefined) {
      addRow(t, T.signal, fmtFixed(row.signalDbm, 1) + ' dBm');
    }
    if (row.blockedBy) { addRow(t, T.blocked_by, row.blockedBy); }
    if (row.confidence) {
      addRow(t, T.confidence, T['confidence_' + row.confidence] || row.confidence);
    }
    if (row.gap === 'disputed') {
      addRow(t, T.dispute, fmt(T.dispute_evidence,
                               {tests: row.disputeTests, days: row.disputeDays}));
    }
    if (row.planItem) {
      addRow(t, T.plan_item, row.planYear === null || row.planYear === undefined ? row.planItem
        : fmt(T.plan_item_year, {item: row.planItem, year: row.planYear}));
    } else if (row.planAnswer) {
      addRow(t, T.plan_answer, row.planAnswer);
    }
    addRow(t, T.population, fmtNumber(row.population));
    addRow(t, T.ethnic, fmtShare(row.ethnicShare));
    if (row.gridPower) { addRow(t, T.grid_power, row.gridPower); }
    if (row.rank !== null) {
      var likely = row.rankP05 !== null && row.rankP95 !== null;
      addRow(t, T.priority_rank, fmt(likely ? T.rank_likely : T.rank_only,
                                     {rank: row.rank, p05: row.rankP05, p95: row.rankP95}));
    }
    box.appendChild(t);
    if (row.score !== null) {
      box.appendChild(el('div', 'geodx-popup-score', fmt(T.score, {score: fmtFixed(row.score, 1)})));
      var bars = el('div', 'geodx-bars');
      data.components.forEach(function (name) {
        var c = row.contrib[name];
        if (c === null || c === undefined) { return; }
        var line = el('div', 'geodx-bar-row');
        line.appendChild(el('span', 'geodx-bar-label', T['component_' + name]));
        var track = el('span', 'geodx-bar-track');
        var bar = el('span', 'geodx-bar');
        var width = row.score > 0 ? Math.max(0, Math.min(100, 100 * c / row.score)) : 0;
        bar.style.width = width.toFixed(1) + '%';
        track.appendChild(bar);
        line.appendChild(track);
        line.appendChild(el('span', 'geodx-bar-value', fmtFixed(c, 1)));
        bars.appendChild(line);
      });
      if (bars.childNodes.length) { box.appendChild(bars); }
    }
    if (row.missing) {
      box.appendChild(el('div', 'geodx-popup-note', fmt(T.not_scored, {names: row.missing})));
    }
    if (row.blocked) { box.appendChild(el('div', 'geodx-popup-blocked', row.blocked)); }
    if (row.reason) { box.appendChild(el('div', 'geodx-popup-reason', row.reason)); }
    return box;
  }

  function communeTooltip(p) {
    var box = el('div', 'geodx-tip');
    box.appendChild(el('div', 'geodx-popup-name', p.name));
    var t = el('table', 'geodx-popup-table');
    addRow(t, T.villages, fmtNumber(p.villages));
    addRow(t, T.with_gap, fmtNumber(p.withGap) + ' (' + fmtShare(p.share) + ')');
    addRow(t, T.without_fibre, fmtNumber(p.withoutFibre));
    addRow(t, T.without_mobile, fmtNumber(p.withoutMobile));
    addRow(t, T.without_both, fmtNumber(p.withoutBoth));
    box.appendChild(t);
    return box;
  }

  function shareColor(data, share) {
    if (share === null || share === undefined) { return data.noDataColor; }
    for (var i = 0; i < data.shareBins.length - 1; i++) {
      if (share <= data.shareBins[i + 1]) { return data.shareColors[i]; }
    }
    return data.shareColors[data.shareColors.length - 1];
  }

  function villageRadius(data, row) {
    if (!data.hasScore) { return 6; }
    if (row.score === null) { return 3.5; }
    return 4 + 8 * Math.max(0, Math.min(100, row.score)) / 100;
  }

  function legendControl(data) {
    var ctl = L.control({position: 'bottomright'});
    ctl.onAdd = function (map) {
      var outer = el('div', 'geodx-legend leaflet-control');
      L.DomEvent.disableClickPropagation(outer);
      L.DomEvent.disableScrollPropagation(outer);
      var toggle = el('button', 'geodx-legend-toggle', T.legend);
      toggle.type = 'button';
      var box = el('div', 'geodx-legend-body');
      outer.appendChild(toggle);
      outer.appendChild(box);
      function setOpen(open) {
        box.style.display = open ? '' : 'none';
        toggle.setAttribute('aria-expanded', open ? 'true' : 'false');
        toggle.textContent = T.legend + (open ? ' \u25be' : ' \u25b8');
      }
      toggle.addEventListener('click', function () { setOpen(box.style.display === 'none'); });
      // Small screens (phones) start with the legend folded.
      setOpen(map.getSize().y >= 560 && map.getSize().x >= 700);
      box.appendChild(el('div', 'geodx-legend-title', T.legend_villages));
      data.gapClasses.forEach(function (c) {
        var line = el('div', 'geodx-legend-row');
        var sw = el('span', 'geodx-swatch geodx-swatch-dot');
        sw.style.background = c.color;
        line.appendChild(sw);
        line.appendChild(el('span', null, c.label + ' (' + fmtNumber(c.count) + ')'));
        box.appendChild(line);
      });
      if (data.unplacedNote) {  // misplaced villages: counted here, never drawn
        box.appendChild(el('div', 'geodx-legend-note geodx-legend-unplaced', data.unplacedNote));
      }
      if (data.hasScore) {
        box.appendChild(el('div', 'geodx-legend-note', T.legend_size));
        var rk = el('div', 'geodx-legend-row');
        rk.appendChild(el('span', 'geodx-rank geodx-rank-legend', '1'));
        rk.appendChild(el('span', null, fmt(T.legend_top, {n: data.topN})));
        box.appendChild(rk);
      }
      if (data.siteRows.length || data.raster) {
        box.appendChild(el('div', 'geodx-legend-title', T.legend_coverage));
        data.siteLegend.forEach(function (s) {
          var line = el('div', 'geodx-legend-row');
          var sw = el('span', 'geodx-swatch ' + (s.ring ? 'geodx-swatch-ring' : 'geodx-swatch-dot'));
          sw.style.borderColor = s.color;
          if (!s.ring) { sw.style.background = s.color; }
          line.appendChild(sw);
          line.appendChild(el('span', null, s.label));
          box.appendChild(line);
        });
      }
      if (data.raster) {
        var rl = el('div', 'geodx-legend-row');
        var rs = el('span', 'geodx-swatch');
        rs.style.background = data.raster.color;
        rs.style.opacity = '0.6';
        rl.appendChild(rs);
        rl.appendChild(el('span', null, data.raster.label));
        box.appendChild(rl);
      }
      placesLegend(data, box);
      if (data.communes.features.length) {
        box.appendChild(el('div', 'geodx-legend-title geodx-legend-communes', T.legend_communes));
        for (var i = 0; i < data.shareColors.length; i++) {
          var line = el('div', 'geodx-legend-row');
          var sw = el('span', 'geodx-swatch');
          sw.style.background = data.shareColors[i];
          line.appendChild(sw);
          var lo = Math.round(data.shareBins[i] * 100), hi = Math.round(data.shareBins[i + 1] * 100);
          line.appendChild(el('span', null, (i === 0 ? lo : lo + 1) + '\u2013' + fmtPercent(hi)));
          box.appendChild(line);
        }
      }
      ctl.body = box;
      return outer;
    };
    return ctl;
  }

  // One legend line: a symbol drawn by CSS (class `geodx-sym-<kind>`, colour optional).
  function legendRow(box, kind, label, color, text) {
    var line = el('div', 'geodx-legend-row');
    var sym = el('span', 'geodx-sym geodx-sym-' + kind, text);
    if (color) { sym.style.setProperty('--geodx-sym-color', color); }
    line.appendChild(sym);
    line.appendChild(el('span', null, label));
    box.appendChild(line);
    return line;
  }

  // What is drawn around the villages: roads, centres, names, relief, the ridge marker.
  function placesLegend(data, box) {
    var ctx = data.context || {}, rows = [];
    var kinds = ctx.roads ? ctx.roads.kind : [];
    if (kinds.indexOf(0) !== -1) { rows.push(['road-main', T.legend_road_main]); }
    if (kinds.indexOf(1) !== -1) { rows.push(['road-local', T.legend_road_local]); }
    var towns = ctx.towns ? ctx.towns.kind : [];
    if (towns.some(function (k) { return k === 'capital' || k === 'city'; })) {
      rows.push(['capital', T.legend_capital]);
    }
    if (towns.some(function (k) { return k !== 'capital' && k !== 'city'; })) {
      rows.push(['centre', T.legend_centre]);
    }
    if (ctx.communeLabels && ctx.communeLabels.name.length) {
      rows.push(['name', T.legend_commune_name, null, 'Aa']);
    }
    if (ctx.relief) { rows.push(['relief', T.layer_relief]); }
    if (data.villages.obstacleLat && data.villages.obstacleLat.some(function (x) {
      return x !== null; })) {
      rows.push(['obstacle', T.legend_obstacle, null, '\u25b2']);
    }
    if (!rows.length) { return; }
    box.appendChild(el('div', 'geodx-legend-title', T.legend_places));
    rows.forEach(function (r) { legendRow(box, r[0], r[1], r[2], r[3]); });
  }

  // A section another layer adds to the legend (the plan): {title, rows: [{kind, label,
  // color, text}]}, placed before the commune shading.
  function addLegend(map, section) {
    var state = (root.geoDxMaps || []).filter(function (s) { return s.map === map; })[0];
    if (!state || !state.legend || !state.legend.body) { return; }
    var box = state.legend.body, part = el('div', 'geodx-legend-part');
    part.appendChild(el('div', 'geodx-legend-title', section.title));
    section.rows.forEach(function (r) { legendRow(part, r.kind, r.label, r.color, r.text); });
    box.insertBefore(part, box.querySelector('.geodx-legend-communes'));
  }

  function titleControl(data) {
    var ctl = L.control({position: 'topright'});
    ctl.onAdd = function () {
      var box = el('div', 'geodx-title leaflet-control');
      box.appendChild(el('div', 'geodx-title-main', data.title));
      if (data.subtitle) { box.appendChild(el('div', 'geodx-title-sub', data.subtitle)); }
      return box;
    };
    return ctl;
  }

  function searchControl(state) {
    var ctl = L.control({position: 'topleft'});
    ctl.onAdd = function () {
      var box = el('div', 'geodx-search leaflet-bar leaflet-control');
      L.DomEvent.disableClickPropagation(box);
      L.DomEvent.disableScrollPropagation(box);
      var input = el('input', 'geodx-search-input');
      input.type = 'search';
      input.placeholder = T.search_placeholder;
      input.setAttribute('aria-label', T.search_aria);
      var list = el('ul', 'geodx-search-results');
      box.appendChild(input);
      box.appendChild(list);
      var matches = [];
      function render() {
        list.textContent = '';
        var q = fold(input.value.trim());
        matches = [];
        if (!q) { return; }
        for (var i = 0; i < state.rows.length && matches.length < 10; i++) {
          if (state.folded[i].indexOf(q) !== -1) { matches.push(i); }
        }
        if (!matches.length) { list.appendChild(el('li', 'geodx-search-none', T.search_none)); }
        matches.forEach(function (i) {
          var row = state.rows[i];
          var label = row.name + (row.commune === null ? '' : ' \u2014 ' + row.commune);
          var li = el('li', 'geodx-search-hit', label);
          li.addEventListener('click', function (e) {
            // Stop here: once the list is emptied the map could not tell the click was ours
            // and would close the popup that show() opens.
            L.DomEvent.stop(e);
            state.show(i);
            list.textContent = '';
          });
          list.appendChild(li);
        });
      }
      input.addEventListener('input', render);
      input.addEventListener('keydown', function (e) {
        if (e.key === 'Enter' && matches.length) { state.show(matches[0]); list.textContent = ''; }
        if (e.key === 'Escape') { input.value = ''; list.textContent = ''; }
      });
      return box;
    };
    return ctl;
  }

  // Fit the villages in the part of the map the title and the open legend leave free: beside
  // them on a wide screen, below the title on a narrow one (top priorities are often at the
  // province's edge, where the boxes sit).
  function fitView(map, bounds) {
    var size = map.getSize(), box = map.getContainer(), side = 0, top = 10;
    var boxes = box.querySelectorAll('.leaflet-right .geodx-title, .leaflet-right .geodx-legend');
    for (var i = 0; i < boxes.length; i++) {
      var body = boxes[i].querySelector('.geodx-legend-body');
      if (!body || body.style.display !== 'none') { side = Math.max(side, boxes[i].offsetWidth); }
    }
    var title = box.querySelector('.geodx-title');
    var wide = side > 0 && size.x - side - 30 >= size.x / 2;
    if (!wide && title && title.offsetHeight) { top = title.offsetHeight + 20; }
    // (and clear of the column of buttons on the left when there is room)
    // At once, not animated: a zoom animation still running when the page is used (a
    // search typed as it opens) would end by undoing the view the search set.
    map.fitBounds(bounds, {paddingTopLeft: [wide || size.x >= 500 ? 50 : 10, top],
                           paddingBottomRight: [wide ? side + 30 : 10, 10], animate: false});
  }

  // Leaflet's own button titles, in the page's language.
  function translateLeaflet(map) {
    function name(node, text) {
      if (node && text) { node.title = text; node.setAttribute('aria-label', text); }
    }
    if (map.zoomControl) {
      name(map.zoomControl._zoomInButton, T.zoom_in);
      name(map.zoomControl._zoomOutButton, T.zoom_out);
    }
    var toggles = map.getContainer().querySelectorAll('.leaflet-control-layers-toggle');
    for (var i = 0; i < toggles.length; i++) { name(toggles[i], T.layers); }
  }

  function build(map, data, groups) {
    T = data.labels;
    NF = data.numberFormat || NF;
    data.classByKey = {};
    data.gapClasses.forEach(function (c) { data.classByKey[c.key] = c; });
    data.siteRows = rowsOf(data.sites);
    var renderer = L.canvas({padding: 0.5});
    var state = {map: map, data: data, rows: rowsOf(data.villages), markers: [], folded: [],
                 groups: groups};

    // Communes (choropleth), kept under every other vector on the shared canvas.
    var communes = L.geoJSON(data.communes, {
      renderer: renderer,
      style: function (f) {
        return {color: '#555555', weight: 1, fillColor: shareColor(data, f.properties.share),
                fillOpacity: 0.45};
      },
      onEachFeature: function (f, layer) {
        layer.bindTooltip(function () { return communeTooltip(f.properties); }, {sticky: true});
      }
    });
    if (groups.communes) { communes.addTo(groups.communes); }
    state.communes = communes;
    // Place context (relief, roads, towns, commune names) above the commune shading and
    // below the villages, on the same canvas (geo_dx_page.js).
    if (root.geoDxPage) { root.geoDxPage.drawContext(state, renderer); }

    // Coverage: mobile sites with reach circles, fibre nodes.
    data.siteRows.forEach(function (s) {
      var style = data.techStyle[s.tech] || data.techStyle.other;
      var target = s.tech === 'fibre' ? groups.fibre : groups.mobile;
      if (!target) { return; }
      if (s.tech !== 'fibre' && s.reachM !== null && s.reachM > 0) {
        L.circle([s.lat, s.lon], {
          renderer: renderer, radius: s.reachM, interactive: false, color: style.color,
          weight: 1, opacity: 0.7, fillOpacity: 0.06, dashArray: style.dash || null
        }).addTo(groups.reach || target);
      }
      var m = L.circleMarker([s.lat, s.lon], {
        renderer: renderer, radius: s.tech === 'fibre' ? 3.5 : 4.5, color: '#ffffff',
        weight: 1, fillColor: style.color, fillOpacity: 1
      });
      m.bindTooltip(function () {
        var parts = [s.tech.toUpperCase()];
        if (s.operator) { parts.push(s.operator); }
        if (s.kind) { parts.push(T['kind_' + s.kind] || s.kind); }
        if (s.source) { parts.push(T['source_' + s.source] || s.source); }
        if (s.reachM !== null) { parts.push(fmt(T.reach, {distance: fmtDistance(s.reachM)})); }
        return el('span', null, parts.join(' \u00b7 '));
      });
      m.addTo(target);
    });

    // Villages: one canvas circle each; a shared popup built only when opened.
    // Pan clear of the search box and zoom buttons (left) and the title (top).
    // (panned by fitOpen, at once, rather than by Leaflet's animated auto-pan)
    var popup = L.popup({maxWidth: 320, minWidth: 220, autoPan: false,
                         autoPanPaddingTopLeft: [60, 80], autoPanPaddingBottomRight: [20, 20]});
    var hover = L.tooltip({direction: 'top', offset: [0, -6]});
    state.popup = popup;
    // A blocked village's popup marks the ridge top that hides its site (until another
    // village's popup opens). A ridge above the village on screen would sit under the
    // popup: the popup then opens below the village, its tip pointing up.
    var obstacle = L.layerGroup();
    state.obstacle = obstacle;
    state.open = function (i) {
      var row = state.rows[i];
      var popupBox = popup.getElement && popup.getElement();
      if (popupBox) { L.DomUtil.removeClass(popupBox, 'geodx-popup-below'); }
      popup.options.offset = L.point(0, 7);  // Leaflet's default: above the village
      var content = popupBox && popupBox.querySelector('.leaflet-popup-content');
      if (content) { content.style.maxHeight = ''; }
      popup.setLatLng([row.lat, row.lon]).setContent(villagePopup(data, row)).openOn(map);
      state.openIndex = i;
      obstacle.clearLayers();
      if (!(row.blocked && row.obstacleLat !== null && row.obstacleLat !== undefined)) {
        map.removeLayer(obstacle);
        fitOpen(map, popup, null);
        return;
      }
      L.polyline([[row.lat, row.lon], [row.obstacleLat, row.obstacleLon]], {
        color: '#6b3a00', weight: 1.5, dashArray: '3 4', interactive: false
      }).addTo(obstacle);
      L.marker([row.obstacleLat, row.obstacleLon], {
        icon: L.divIcon({className: 'geodx-obstacle', html: '\u25b2', iconSize: [16, 16]}),
        title: T.legend_obstacle, keyboard: false, interactive: false, zIndexOffset: 2000
      }).addTo(obstacle);
      obstacle.addTo(map);
      var village = map.latLngToContainerPoint([row.lat, row.lon]);
      var ridge = map.latLngToContainerPoint([row.obstacleLat, row.obstacleLon]);
      var wrapper = popup.getElement().querySelector('.leaflet-popup-content-wrapper');
      if (ridge.y < village.y - 4 && wrapper) {
        var top = wrapper.getBoundingClientRect().top -
          map.getContainer().getBoundingClientRect().top;
        popup.options.offset = L.point(0, 7 + village.y + 18 - top);
        L.DomUtil.addClass(popup.getElement(), 'geodx-popup-below');
        popup.update();
      }
      fitOpen(map, popup, L.latLng(row.obstacleLat, row.obstacleLon));
    };
    state.show = function (i) {
      var row = state.rows[i];
      var group = groups[row.gap];
      if (group && !map.hasLayer(group)) { map.addLayer(group); }
      // No animation: the popup's auto-pan must start from the final view.
      map.setView([row.lat, row.lon], Math.max(map.getZoom(), 14), {animate: false});
      if (row.blocked && row.obstacleLat !== null && row.obstacleLat !== undefined) {
        // Close enough to the ridge that both it and the popup fit on the map.
        var px = map.latLngToContainerPoint([row.lat, row.lon]).distanceTo(
          map.latLngToContainerPoint([row.obstacleLat, row.obstacleLon]));
        if (px > RIDGE_PX) {
          var z = map.getZoom() - Math.log(px / RIDGE_PX) / Math.LN2;
          map.setView([row.lat, row.lon], Math.floor(z * 4) / 4, {animate: false});
        }
      }
      state.open(i);
    };
    var order = state.rows.map(function (r, i) { return i; });
    // Draw higher scores last so they sit on top.
    order.sort(function (a, b) {
      var sa = state.rows[a].score, sb = state.rows[b].score;
      return (sa === null ? -1 : sa) - (sb === null ? -1 : sb);
    });
    state.folded = state.rows.map(function (r) { return fold(r.name); });
    state.markers = new Array(state.rows.length);
    order.forEach(function (i) {
      var row = state.rows[i];
      var cls = data.classByKey[row.gap];
      var m = L.circleMarker([row.lat, row.lon], {
        renderer: renderer, radius: villageRadius(data, row), color: '#222222', weight: 0.7,
        fillColor: cls.color, fillOpacity: 0.9, geoDxVillage: i, geoDxVillageId: row.id
      });
      state.markers[i] = m;
      if (groups[cls.key]) { m.addTo(groups[cls.key]); }
      if (groups.top && row.rank !== null && row.rank <= data.topRank) {
        L.marker([row.lat, row.lon], {
          icon: L.divIcon({className: 'geodx-rank', html: String(Number(row.rank)),
                           iconSize: [20, 20], iconAnchor: [-4, 24]}),
          keyboard: false, zIndexOffset: 1000 - row.rank, geoDxRank: row.rank
        }).on('click', function () { state.open(i); }).addTo(groups.top);
      }
    });
    data.gapClasses.forEach(function (c) {
      var g = groups[c.key];
      if (!g) { return; }
      g.on('click', function (e) {
        if (e.layer && e.layer.options.geoDxVillage !== undefined) {
          state.open(e.layer.options.geoDxVillage);
        }
      });
      g.on('mouseover', function (e) {
        if (e.layer && e.layer.options.geoDxVillage !== undefined) {
          hover.setLatLng(e.layer.getLatLng())
            .setContent(el('span', null, state.rows[e.layer.options.geoDxVillage].name));
          map.openTooltip(hover);
        }
      });
      g.on('mouseout', function () { map.closeTooltip(hover); });
    });

    map.on('overlayadd', function () { communes.bringToBack(); });

    titleControl(data).addTo(map);
    searchControl(state).addTo(map);
    if (L.control.fullscreen) {
      L.control.fullscreen({position: 'topleft', title: T.fullscreen,
                            titleCancel: T.fullscreen_exit}).addTo(map);
    }
    state.legend = legendControl(data).addTo(map);
    translateLeaflet(map);
    map.on('popupopen', function (e) {
      var close = e.popup.getElement() &&
        e.popup.getElement().querySelector('.leaflet-popup-close-button');
      if (close) { close.setAttribute('aria-label', T.close); close.title = T.close; }
    });
    // The layer control is added after this script: name its button once it is there.
    setTimeout(function () { translateLeaflet(map); }, 0);
    if (data.bounds) { fitView(map, data.bounds); }

    root.geoDxMaps = root.geoDxMaps || [];
    root.geoDxMaps.push(state);
    if (root.geoDxPage) { root.geoDxPage.attach(state); }
    return state;
  }

  root.geoDxMap = {build: build, villagePopup: villagePopup, rowsOf: rowsOf, fmtFixed: fmtFixed,
                   addLegend: addLegend};
})(window);
