/*
 * geo_dx map layers: villages, communes, coverage, legend, title and search.
 * Part of geo_dx (MIT licence). Inlined into every map geo_dx writes; needs Leaflet 1.9.
 *
 * Every string that comes from input data is put into the page with textContent (never
 * innerHTML), so a village whose name looks like an HTML tag shows as that text.
 */
(function (root) {
  'use strict';

  // Column order of data.villages rows; kept in sync with geo_dx/maps.py (_VILLAGE_FIELDS).
  var V = {lat: 0, lon: 1, id: 2, name: 3, commune: 4, gap: 5, score: 6, rank: 7,
           fibre: 8, mobile: 9, pop: 10, ethnic: 11, reason: 12, missing: 13,
           p05: 14, p95: 15, tech: 16, contrib: 17};
  // Column order of data.sites rows (_SITE_FIELDS).
  var S = {lat: 0, lon: 1, tech: 2, reach: 3, operator: 4, kind: 5, source: 6};

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text !== undefined && text !== null) { e.textContent = String(text); }
    return e;
  }

  function fmtDistance(m) {
    if (m === null || m === undefined) { return 'none known'; }
    if (m < 1000) { return Math.round(m) + ' m'; }
    return (m / 1000).toFixed(m < 10000 ? 1 : 0) + ' km';
  }

  function fmtNumber(x) {
    if (x === null || x === undefined) { return 'unknown'; }
    return Math.round(x).toLocaleString('en-US');
  }

  function fmtShare(x) {
    if (x === null || x === undefined) { return 'unknown'; }
    return Math.round(x * 100) + '%';
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

  function villagePopup(data, row) {
    var cls = data.gapClasses[row[V.gap]];
    var box = el('div', 'geodx-popup');
    box.appendChild(el('div', 'geodx-popup-name', row[V.name]));
    var t = el('table', 'geodx-popup-table');
    addRow(t, 'Commune', row[V.commune] === null ? 'unknown' : row[V.commune]);
    var gapCell = cls.label;
    addRow(t, 'Gap', gapCell);
    addRow(t, 'Nearest fibre', fmtDistance(row[V.fibre]));
    addRow(t, 'Nearest mobile (3G+)', fmtDistance(row[V.mobile]));
    if (row[V.tech] !== null) { addRow(t, 'Best mobile here', row[V.tech]); }
    addRow(t, 'Population', fmtNumber(row[V.pop]));
    addRow(t, 'Ethnic minority', fmtShare(row[V.ethnic]));
    if (row[V.rank] !== null) {
      var rank = '#' + row[V.rank];
      if (row[V.p05] !== null && row[V.p95] !== null) {
        rank += ' (likely ' + row[V.p05] + '\u2013' + row[V.p95] + ')';
      }
      addRow(t, 'Priority rank', rank);
    }
    box.appendChild(t);
    if (row[V.score] !== null) {
      box.appendChild(el('div', 'geodx-popup-score', 'Score ' + row[V.score].toFixed(1) + ' / 100'));
      var contrib = row[V.contrib];
      if (contrib) {
        var bars = el('div', 'geodx-bars');
        for (var i = 0; i < data.components.length; i++) {
          var c = contrib[i];
          if (c === null || c === undefined) { continue; }
          var line = el('div', 'geodx-bar-row');
          line.appendChild(el('span', 'geodx-bar-label', data.components[i]));
          var track = el('span', 'geodx-bar-track');
          var bar = el('span', 'geodx-bar');
          var width = row[V.score] > 0 ? Math.max(0, Math.min(100, 100 * c / row[V.score])) : 0;
          bar.style.width = width.toFixed(1) + '%';
          track.appendChild(bar);
          line.appendChild(track);
          line.appendChild(el('span', 'geodx-bar-value', c.toFixed(1)));
          bars.appendChild(line);
        }
        box.appendChild(bars);
      }
    }
    if (row[V.missing]) {
      box.appendChild(el('div', 'geodx-popup-note', 'Not scored on (no data): ' + row[V.missing]));
    }
    if (row[V.reason]) { box.appendChild(el('div', 'geodx-popup-reason', row[V.reason])); }
    return box;
  }

  function communeTooltip(p) {
    var box = el('div', 'geodx-tip');
    box.appendChild(el('div', 'geodx-popup-name', p.name));
    var t = el('table', 'geodx-popup-table');
    addRow(t, 'Villages', fmtNumber(p.villages));
    addRow(t, 'With a gap', fmtNumber(p.gap) + ' (' + fmtShare(p.share) + ')');
    addRow(t, 'Without fibre', fmtNumber(p.noFibre));
    addRow(t, 'Without mobile broadband', fmtNumber(p.noMobile));
    addRow(t, 'Without both', fmtNumber(p.noBoth));
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
    if (row[V.score] === null) { return 3.5; }
    return 4 + 8 * Math.max(0, Math.min(100, row[V.score])) / 100;
  }

  function legendControl(data, counts) {
    var ctl = L.control({position: 'bottomright'});
    ctl.onAdd = function (map) {
      var outer = el('div', 'geodx-legend leaflet-control');
      L.DomEvent.disableClickPropagation(outer);
      L.DomEvent.disableScrollPropagation(outer);
      var toggle = el('button', 'geodx-legend-toggle', 'Legend');
      toggle.type = 'button';
      var box = el('div', 'geodx-legend-body');
      outer.appendChild(toggle);
      outer.appendChild(box);
      function setOpen(open) {
        box.style.display = open ? '' : 'none';
        toggle.setAttribute('aria-expanded', open ? 'true' : 'false');
        toggle.textContent = open ? 'Legend \u25be' : 'Legend \u25b8';
      }
      toggle.addEventListener('click', function () { setOpen(box.style.display === 'none'); });
      setOpen(map.getSize().y >= 560);  // small screens start with the legend folded
      box.appendChild(el('div', 'geodx-legend-title', 'Villages'));
      data.gapClasses.forEach(function (c, i) {
        var line = el('div', 'geodx-legend-row');
        var sw = el('span', 'geodx-swatch geodx-swatch-dot');
        sw.style.background = c.color;
        line.appendChild(sw);
        line.appendChild(el('span', null, c.label + ' (' + counts[i] + ')'));
        box.appendChild(line);
      });
      if (data.hasScore) {
        box.appendChild(el('div', 'geodx-legend-note', 'Larger circle = higher priority score'));
        var rk = el('div', 'geodx-legend-row');
        rk.appendChild(el('span', 'geodx-rank geodx-rank-legend', '1'));
        rk.appendChild(el('span', null, 'Top ' + data.topN + ' by priority rank'));
        box.appendChild(rk);
      }
      if (data.sites.length || data.raster) {
        box.appendChild(el('div', 'geodx-legend-title', 'Coverage'));
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
      if (data.communes.features.length) {
        box.appendChild(el('div', 'geodx-legend-title', 'Communes: share of villages with a gap'));
        for (var i = 0; i < data.shareColors.length; i++) {
          var line = el('div', 'geodx-legend-row');
          var sw = el('span', 'geodx-swatch');
          sw.style.background = data.shareColors[i];
          line.appendChild(sw);
          var lo = Math.round(data.shareBins[i] * 100), hi = Math.round(data.shareBins[i + 1] * 100);
          line.appendChild(el('span', null, (i === 0 ? lo : lo + 1) + '\u2013' + hi + '%'));
          box.appendChild(line);
        }
      }
      return outer;
    };
    return ctl;
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
      input.placeholder = 'Search village\u2026';
      input.setAttribute('aria-label', 'Search village by name');
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
        if (!matches.length) { list.appendChild(el('li', 'geodx-search-none', 'No village found')); }
        matches.forEach(function (i) {
          var row = state.rows[i];
          var label = row[V.name] + (row[V.commune] === null ? '' : ' \u2014 ' + row[V.commune]);
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

  function build(map, data, groups) {
    var renderer = L.canvas({padding: 0.5});
    var state = {map: map, data: data, rows: data.villages, markers: [], folded: [],
                 groups: groups, counts: data.gapClasses.map(function () { return 0; })};

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

    // Coverage: mobile sites with reach circles, fibre nodes.
    data.sites.forEach(function (s) {
      var style = data.techStyle[s[S.tech]] || data.techStyle.other;
      var target = s[S.tech] === 'fibre' ? groups.fibre : groups.mobile;
      if (!target) { return; }
      if (s[S.tech] !== 'fibre' && s[S.reach] !== null && s[S.reach] > 0) {
        L.circle([s[S.lat], s[S.lon]], {
          renderer: renderer, radius: s[S.reach], interactive: false, color: style.color,
          weight: 1, opacity: 0.7, fillOpacity: 0.06, dashArray: style.dash || null
        }).addTo(target);
      }
      var m = L.circleMarker([s[S.lat], s[S.lon]], {
        renderer: renderer, radius: s[S.tech] === 'fibre' ? 3.5 : 4.5, color: '#ffffff',
        weight: 1, fillColor: style.color, fillOpacity: 1
      });
      m.bindTooltip(function () {
        var parts = [s[S.tech].toUpperCase()];
        if (s[S.operator]) { parts.push(s[S.operator]); }
        if (s[S.kind]) { parts.push(s[S.kind]); }
        if (s[S.source]) { parts.push(s[S.source]); }
        if (s[S.reach] !== null) { parts.push('reach ' + fmtDistance(s[S.reach])); }
        return el('span', null, parts.join(' \u00b7 '));
      });
      m.addTo(target);
    });

    // Villages: one canvas circle each; a shared popup built only when opened.
    // Pan clear of the search box and zoom buttons (left) and the title (top).
    var popup = L.popup({maxWidth: 320, minWidth: 220, autoPanPaddingTopLeft: [60, 80],
                         autoPanPaddingBottomRight: [20, 20]});
    var hover = L.tooltip({direction: 'top', offset: [0, -6]});
    state.popup = popup;
    state.open = function (i) {
      var row = state.rows[i];
      popup.setLatLng([row[V.lat], row[V.lon]]).setContent(villagePopup(data, row)).openOn(map);
      state.openIndex = i;
    };
    state.show = function (i) {
      var row = state.rows[i];
      var group = groups[data.gapClasses[row[V.gap]].key];
      if (group && !map.hasLayer(group)) { map.addLayer(group); }
      // No animation: the popup's auto-pan must start from the final view.
      map.setView([row[V.lat], row[V.lon]], Math.max(map.getZoom(), 14), {animate: false});
      state.open(i);
    };
    var order = state.rows.map(function (r, i) { return i; });
    // Draw higher scores last so they sit on top.
    order.sort(function (a, b) {
      var sa = state.rows[a][V.score], sb = state.rows[b][V.score];
      return (sa === null ? -1 : sa) - (sb === null ? -1 : sb);
    });
    state.folded = state.rows.map(function (r) { return fold(r[V.name]); });
    state.markers = new Array(state.rows.length);
    order.forEach(function (i) {
      var row = state.rows[i];
      var cls = data.gapClasses[row[V.gap]];
      state.counts[row[V.gap]] += 1;
      var m = L.circleMarker([row[V.lat], row[V.lon]], {
        renderer: renderer, radius: villageRadius(data, row), color: '#222222', weight: 0.7,
        fillColor: cls.color, fillOpacity: 0.9, geoDxVillage: i, geoDxVillageId: row[V.id]
      });
      state.markers[i] = m;
      if (groups[cls.key]) { m.addTo(groups[cls.key]); }
      if (groups.top && row[V.rank] !== null && row[V.rank] <= data.topN) {
        L.marker([row[V.lat], row[V.lon]], {
          icon: L.divIcon({className: 'geodx-rank', html: String(Number(row[V.rank])),
                           iconSize: [20, 20], iconAnchor: [-4, 24]}),
          keyboard: false, zIndexOffset: 1000 - row[V.rank], geoDxRank: row[V.rank]
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
            .setContent(el('span', null, state.rows[e.layer.options.geoDxVillage][V.name]));
          map.openTooltip(hover);
        }
      });
      g.on('mouseout', function () { map.closeTooltip(hover); });
    });

    map.on('overlayadd', function () { communes.bringToBack(); });

    titleControl(data).addTo(map);
    searchControl(state).addTo(map);
    if (L.control.fullscreen) {
      L.control.fullscreen({position: 'topleft', title: 'Full screen',
                            titleCancel: 'Exit full screen'}).addTo(map);
    }
    legendControl(data, state.counts).addTo(map);
    if (data.bounds) { map.fitBounds(data.bounds, {padding: [10, 10]}); }

    root.geoDxMaps = root.geoDxMaps || [];
    root.geoDxMaps.push(state);
    return state;
  }

  root.geoDxMap = {build: build, villagePopup: villagePopup, fields: V};
})(window);
