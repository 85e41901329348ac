/* eventwire dashboard: map, timeline, table and event panel over the read-only REST API.
 *
 * Rules this file keeps (the page's Content-Security-Policy enforces the first two):
 * no inline script or handlers, no remote origin but the optional tile server, and text from
 * the store is only ever put into the page with textContent / createTextNode, never as HTML.
 */
(function () {
  "use strict";

  var TYPES = ["AGREE", "CONSULT", "SUPPORT", "CONCEDE", "COOPERATE", "AID", "RETREAT",
    "REQUEST", "ACCUSE", "REJECT", "THREATEN", "PROTEST", "SANCTION", "MOBILIZE", "COERCE",
    "ASSAULT"];
  // One colour per PLOVER type: violence in reds, coercion in oranges, talk in blues/greens.
  var COLORS = {
    ASSAULT: "#d62728", COERCE: "#ff7f0e", THREATEN: "#e377c2", MOBILIZE: "#8c564b",
    SANCTION: "#bcbd22", PROTEST: "#9467bd", ACCUSE: "#f5a623", REJECT: "#7f7f7f",
    REQUEST: "#17becf", RETREAT: "#aec7e8", AID: "#2ca02c", COOPERATE: "#1f77b4",
    CONCEDE: "#98df8a", SUPPORT: "#2e8b57", CONSULT: "#4169e1", AGREE: "#006400"
  };
  var MAP_LIMIT = 10000;
  var TABLE_ROWS = 500;
  var EXPORT_MAX = 200000;
  var MAP_FIELDS = ["event_id", "event_type", "modality", "latitude", "longitude", "event_date",
    "actor1", "actor2", "place", "country", "sentence", "report_count"];
  // Merged events: the canonical record of each cluster of reports, and its reports.
  var CLUSTER_FIELDS = ["cluster_id", "event_id", "event_type", "modality", "latitude",
    "longitude", "event_date", "actor1", "actor2", "place", "country", "sentence", "report_count",
    "source", "fatalities", "date_precision", "geo_precision", "event_ids"];

  var state = { brush: null, stats: null, events: [], selected: null, seq: 0 };

  /* "reports" (one row per report) or "clusters" (merged events), from the Show select. */
  function view() { return document.getElementById("f-view").value === "clusters" ? "clusters" : "reports"; }
  function listPath() { return view() === "clusters" ? "/api/clusters" : "/api/events"; }
  function idOf(rec) { return view() === "clusters" ? rec.cluster_id : rec.event_id; }
  function reportsText(n) { return n > 1 ? n + " reports" : ""; }
  var token = readToken();
  var map, markers, timelineScale = null;

  // ------------------------------------------------------------------ helpers

  function readToken() {
    var m = /(?:^#|&)token=([^&]+)/.exec(window.location.hash || "");
    if (m) {
      try { window.sessionStorage.setItem("eventwire-token", decodeURIComponent(m[1])); }
      catch (e) { /* storage may be off; the token then lasts for this page only */ }
      history.replaceState(null, "", window.location.pathname + window.location.search);
      return decodeURIComponent(m[1]);
    }
    try { return window.sessionStorage.getItem("eventwire-token"); } catch (e) { return null; }
  }

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) { node.className = cls; }
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    return node;
  }

  function api(path, params) {
    var query = params ? "?" + params.toString() : "";
    var headers = { "Accept": "application/json" };
    if (token) { headers.Authorization = "Bearer " + token; }
    return fetch(path + query, { headers: headers, credentials: "same-origin" }).then(function (r) {
      if (!r.ok) {
        return r.json().catch(function () { return {}; }).then(function (body) {
          var msg = body && body.error ? body.error.message : ("HTTP " + r.status);
          throw new Error(msg);
        });
      }
      return r;
    });
  }

  function safeHttpUrl(value) {
    try {
      var u = new URL(String(value));
      return (u.protocol === "http:" || u.protocol === "https:") ? u.href : null;
    } catch (e) { return null; }
  }

  function setStatus(text, isError) {
    var node = document.getElementById("status");
    node.textContent = text;
    node.classList.toggle("error", !!isError);
  }

  // ------------------------------------------------------------------ filters

  function filterParams(withDates) {
    var p = new URLSearchParams();
    var type = document.getElementById("f-type").value;
    var modality = document.getElementById("f-modality").value;
    if (type) { p.set("type", type); }
    if (modality === "*") { p.set("include_hypothetical", "true"); }
    else if (modality) { p.set("modality", modality); }
    ["actor", "country", "q"].forEach(function (name) {
      var v = document.getElementById("f-" + name).value.trim();
      if (v) { p.set(name, v); }
    });
    var box = viewBbox();
    if (box) { p.set("bbox", box); }
    if (withDates) {
      var since = document.getElementById("f-since").value;
      var until = document.getElementById("f-until").value;
      if (state.brush) {
        since = since && since > state.brush[0] ? since : state.brush[0];
        until = until && until < state.brush[1] ? until : state.brush[1];
      }
      if (since) { p.set("since", since); }
      if (until) { p.set("until", until); }
    }
    return p;
  }

  /* The map's view as west,south,east,north when "only what the map shows" is on. */
  function viewBbox() {
    if (!map || !document.getElementById("f-inview").checked) { return null; }
    var b = map.getBounds();
    var west = b.getWest(), east = b.getEast();
    if (east - west >= 360) { return null; }
    function wrap(x) { return ((x + 180) % 360 + 360) % 360 - 180; }
    function clampLat(y) { return Math.max(-90, Math.min(90, y)); }
    return [wrap(west), clampLat(b.getSouth()), wrap(east), clampLat(b.getNorth())]
      .map(function (v) { return v.toFixed(4); }).join(",");
  }

  function timelineParams() {
    // The timeline shows the whole range of the form's dates; brushing narrows the rest.
    var p = filterParams(false);
    if (view() === "clusters") { p.set("clusters", "true"); }
    var since = document.getElementById("f-since").value;
    var until = document.getElementById("f-until").value;
    if (since) { p.set("since", since); }
    if (until) { p.set("until", until); }
    return p;
  }

  // ------------------------------------------------------------------ map

  function initMap() {
    map = L.map("map", { worldCopyJump: true, minZoom: 2, maxZoom: 14 }).setView([34.8, 38.5], 6);
    map.attributionControl.setPrefix("Leaflet");
    var tiles = document.querySelector("meta[name=eventwire-tiles]").getAttribute("content");
    if (tiles) {
      L.tileLayer(tiles, { maxZoom: 18, attribution: "Tiles: " + new URL(tiles.replace(/[{}]/g, "")).host }).addTo(map);
    }
    fetch("/static/vendor/world-atlas/countries-110m.json").then(function (r) { return r.json(); })
      .then(function (topo) {
        var land = topojson.feature(topo, topo.objects.countries);
        L.geoJSON(land, {
          interactive: false,
          style: { color: "#7a8793", weight: 1, fillColor: "#eef0e6", fillOpacity: tiles ? 0 : 1 }
        }).addTo(map).bringToBack();
        document.body.dataset.basemap = "ready";
      }).catch(function () { setStatus("Country outlines could not be loaded.", true); });
    map.attributionControl.addAttribution("Natural Earth; places © GeoNames (CC BY 4.0)");
    markers = L.markerClusterGroup({
      chunkedLoading: true, showCoverageOnHover: false, maxClusterRadius: 50,
      disableClusteringAtZoom: 9, iconCreateFunction: clusterIcon
    });
    map.addLayer(markers);
    addLegend();
  }

  /* A cluster is drawn in the colour of its most frequent event type, with its count. */
  function clusterIcon(cluster) {
    var counts = {};
    var best = null;
    cluster.getAllChildMarkers().forEach(function (m) {
      var t = m.options.eventType;
      counts[t] = (counts[t] || 0) + 1;
      if (best === null || counts[t] > counts[best]) { best = t; }
    });
    var n = cluster.getChildCount();
    var size = n < 10 ? "small" : (n < 100 ? "medium" : "large");
    var inner = el("div", "swatch-" + best);
    inner.appendChild(el("span", null, n));
    return L.divIcon({
      html: inner,
      className: "marker-cluster marker-cluster-" + size + " ev-cluster",
      iconSize: L.point(40, 40)
    });
  }

  function addLegend() {
    var legend = L.control({ position: "bottomleft" });
    legend.onAdd = function () {
      var box = el("div", "legend");
      TYPES.forEach(function (t) {
        var row = el("div", "legend-row");
        var sw = el("span", "swatch swatch-" + t);
        row.appendChild(sw);
        row.appendChild(document.createTextNode(" " + t));
        row.dataset.type = t;
        box.appendChild(row);
      });
      return box;
    };
    legend.addTo(map);
  }

  function drawMarkers(events) {
    markers.clearLayers();
    var layers = [];
    var bounds = [];
    events.forEach(function (ev) {
      if (ev.latitude === null || ev.longitude === null) { return; }
      var color = COLORS[ev.event_type] || "#333";
      var reports = ev.report_count || 1;
      // An event many outlets reported is drawn larger.
      var m = L.circleMarker([ev.latitude, ev.longitude], {
        radius: 7 + Math.min(6, 2 * (reports - 1)), color: "#222", weight: reports > 1 ? 2 : 1,
        fillColor: color, fillOpacity: 0.85,
        className: "ev-marker ev-" + ev.event_type, eventType: ev.event_type
      });
      m.eventId = idOf(ev);
      m.reportCount = reports;
      m.bindTooltip(function () {
        return [ev.event_date || "undated", ev.event_type, ev.place || "", reportsText(reports)]
          .filter(Boolean).join(" · ");
      });
      m.on("click", function () { selectRecord(idOf(ev)); });
      layers.push(m);
      bounds.push([ev.latitude, ev.longitude]);
    });
    markers.addLayers(layers);
    document.body.dataset.markers = String(layers.length);
    if (bounds.length && !state.brush && !document.getElementById("f-inview").checked) {
      map.fitBounds(bounds, { padding: [30, 30], maxZoom: 8, animate: false });
    }
  }

  // ------------------------------------------------------------------ timeline

  function dayNumber(iso) { return Math.floor(Date.parse(iso + "T00:00:00Z") / 86400000); }
  function isoDay(n) { return new Date(n * 86400000).toISOString().slice(0, 10); }

  function drawTimeline(stats) {
    var svg = document.getElementById("timeline");
    while (svg.firstChild) { svg.removeChild(svg.firstChild); }
    var width = svg.clientWidth || 800, height = svg.clientHeight || 90;
    svg.setAttribute("viewBox", "0 0 " + width + " " + height);
    var days = stats.by_day;
    if (!days.length) { timelineScale = null; return; }
    var first = dayNumber(days[0][0]), last = dayNumber(days[days.length - 1][0]);
    var span = last - first + 1;
    var bin = Math.max(1, Math.ceil(span / 200));
    var nbins = Math.ceil(span / bin);
    var counts = new Array(nbins).fill(0);
    days.forEach(function (d) { counts[Math.floor((dayNumber(d[0]) - first) / bin)] += d[1]; });
    var max = Math.max.apply(null, counts);
    var pad = 4, barW = (width - 2 * pad) / nbins;
    timelineScale = { first: first, bin: bin, nbins: nbins, pad: pad, barW: barW, width: width };
    var ns = "http://www.w3.org/2000/svg";
    counts.forEach(function (c, i) {
      if (!c) { return; }
      var h = Math.max(2, (height - 18) * c / max);
      var r = document.createElementNS(ns, "rect");
      r.setAttribute("x", String(pad + i * barW));
      r.setAttribute("y", String(height - 14 - h));
      r.setAttribute("width", String(Math.max(1, barW - 1)));
      r.setAttribute("height", String(h));
      r.setAttribute("class", "bar");
      var t = document.createElementNS(ns, "title");
      t.textContent = isoDay(first + i * bin) + (bin > 1 ? " (+" + (bin - 1) + " d)" : "") + ": " + c;
      r.appendChild(t);
      svg.appendChild(r);
    });
    [[first, "start"], [last, "end"]].forEach(function (pair) {
      var label = document.createElementNS(ns, "text");
      label.setAttribute("x", String(pair[1] === "start" ? pad : width - pad));
      label.setAttribute("y", String(height - 2));
      label.setAttribute("text-anchor", pair[1]);
      label.setAttribute("class", "axis");
      label.textContent = isoDay(pair[0]);
      svg.appendChild(label);
    });
    var brush = document.createElementNS(ns, "rect");
    brush.setAttribute("id", "brush");
    brush.setAttribute("y", "0");
    brush.setAttribute("height", String(height - 14));
    brush.setAttribute("width", "0");
    svg.appendChild(brush);
    showBrush();
  }

  function xToDay(x) {
    var s = timelineScale;
    var i = Math.min(s.nbins - 1, Math.max(0, Math.floor((x - s.pad) / s.barW)));
    return s.first + i * s.bin;
  }

  function showBrush() {
    var rect = document.getElementById("brush");
    var s = timelineScale;
    document.getElementById("clear-brush").hidden = !state.brush;
    if (!rect || !s) { return; }
    if (!state.brush) { rect.setAttribute("width", "0"); return; }
    var a = (dayNumber(state.brush[0]) - s.first) / s.bin;
    var b = (dayNumber(state.brush[1]) - s.first) / s.bin + 1;
    rect.setAttribute("x", String(s.pad + a * s.barW));
    rect.setAttribute("width", String(Math.max(1, (b - a) * s.barW)));
  }

  function initBrushing() {
    var svg = document.getElementById("timeline");
    var start = null;
    function localX(evt) {
      var box = svg.getBoundingClientRect();
      return (evt.clientX - box.left) * (timelineScale ? timelineScale.width / box.width : 1);
    }
    svg.addEventListener("pointerdown", function (evt) {
      if (!timelineScale) { return; }
      start = xToDay(localX(evt));
      svg.setPointerCapture(evt.pointerId);
      state.brush = [isoDay(start), isoDay(start + timelineScale.bin - 1)];
      showBrush();
    });
    svg.addEventListener("pointermove", function (evt) {
      if (start === null) { return; }
      var now = xToDay(localX(evt));
      var lo = Math.min(start, now), hi = Math.max(start, now) + timelineScale.bin - 1;
      state.brush = [isoDay(lo), isoDay(hi)];
      showBrush();
    });
    svg.addEventListener("pointerup", function () {
      if (start === null) { return; }
      start = null;
      loadEvents();
    });
    document.getElementById("clear-brush").addEventListener("click", function () {
      state.brush = null;
      showBrush();
      loadEvents();
    });
  }

  // ------------------------------------------------------------------ table

  function drawTable(events) {
    var body = document.querySelector("#events-table tbody");
    while (body.firstChild) { body.removeChild(body.firstChild); }
    events.slice(0, TABLE_ROWS).forEach(function (ev) {
      var tr = el("tr");
      tr.dataset.id = idOf(ev);
      tr.dataset.eventId = ev.event_id;
      if (ev.cluster_id) { tr.dataset.clusterId = ev.cluster_id; }
      tr.dataset.reportCount = String(ev.report_count || 1);
      tr.dataset.type = ev.event_type;
      tr.tabIndex = 0;
      [ev.event_date || "", ev.event_type, ev.modality, ev.actor1 || "", ev.actor2 || "",
        ev.place || "", ev.country || "", ev.report_count || 1, ev.sentence].forEach(function (v, i) {
        var td = el("td", i === 1 ? "type type-" + ev.event_type : (i === 7 ? "reports" : null), v);
        tr.appendChild(td);
      });
      if (state.selected === idOf(ev)) { tr.classList.add("selected"); }
      body.appendChild(tr);
    });
  }

  function initTable() {
    var body = document.querySelector("#events-table tbody");
    function pick(evt) {
      var tr = evt.target.closest("tr");
      if (tr && tr.dataset.id) { selectRecord(tr.dataset.id); }
    }
    body.addEventListener("click", pick);
    body.addEventListener("keydown", function (evt) { if (evt.key === "Enter") { pick(evt); } });
  }

  // ------------------------------------------------------------------ event panel

  /* The text from `start` to `end` of `text`, split into pieces, each marked with the roles
   * (trigger, actor1, actor2, place) whose spans cover it. Spans are absolute offsets. */
  function highlighted(text, offset, spans) {
    var cuts = [0, text.length];
    spans.forEach(function (s) {
      [s.start - offset, s.end - offset].forEach(function (c) {
        if (c > 0 && c < text.length) { cuts.push(c); }
      });
    });
    cuts = cuts.filter(function (c, i, a) { return a.indexOf(c) === i; }).sort(function (a, b) { return a - b; });
    var frag = document.createDocumentFragment();
    for (var i = 0; i + 1 < cuts.length; i++) {
      var a = cuts[i], b = cuts[i + 1];
      var roles = spans.filter(function (s) { return s.start - offset <= a && s.end - offset >= b; })
        .map(function (s) { return s.role; });
      var piece = text.slice(a, b);
      if (roles.length) {
        var mark = el("mark", roles.map(function (r) { return "hl-" + r; }).join(" "), piece);
        mark.title = roles.join(", ");
        frag.appendChild(mark);
      } else {
        frag.appendChild(document.createTextNode(piece));
      }
    }
    return frag;
  }

  function spansOf(ev) {
    var out = [];
    ["trigger", "actor1", "actor2", "place"].forEach(function (role) {
      var s = ev[role + "_start"], e = ev[role + "_end"];
      if (s !== null && e !== null && s !== undefined && e !== undefined && s >= ev.start && e <= ev.end && s < e) {
        out.push({ role: role, start: s, end: e });
      }
    });
    return out;
  }

  function row(dl, label, value) {
    if (value === null || value === undefined || value === "") { return; }
    dl.appendChild(el("dt", null, label));
    dl.appendChild(el("dd", null, value));
  }

  function markSelected(id) {
    state.selected = id;
    document.querySelectorAll("#events-table tr.selected").forEach(function (tr) {
      tr.classList.remove("selected");
    });
    var tr = document.querySelector('#events-table tr[data-id="' + CSS.escape(id) + '"]');
    if (tr) { tr.classList.add("selected"); }
  }

  /* A marker or row was picked: a report's panel, or a merged event's. */
  function selectRecord(id) {
    if (view() !== "clusters") { selectEvent(id); return; }
    markSelected(id);
    var found = state.events.filter(function (c) { return c.cluster_id === id; })[0];
    if (found) { showCluster(found); }
  }

  function selectEvent(id) {
    if (view() !== "clusters") { markSelected(id); }
    api("/api/events/" + encodeURIComponent(id)).then(function (r) { return r.json(); })
      .then(showEvent)
      .catch(function (e) { setStatus("Event could not be loaded: " + e.message, true); });
  }

  /* A merged event: its canonical record, who reported it, and a button per report. */
  function showCluster(c) {
    var panel = document.getElementById("panel");
    while (panel.firstChild) { panel.removeChild(panel.firstChild); }
    panel.appendChild(el("h2", "type type-" + c.event_type, c.event_type));
    panel.appendChild(el("p", "modality modality-" + c.modality, c.modality));
    var quote = el("blockquote", "sentence", c.sentence);
    quote.id = "sentence";
    panel.appendChild(quote);
    var dl = el("dl");
    dl.id = "cluster";
    row(dl, "Reports", c.report_count);
    row(dl, "Reported by", c.source);
    row(dl, "Actor 1", c.actor1);
    row(dl, "Actor 2", c.actor2);
    row(dl, "Place", [c.place, c.country].filter(Boolean).join(", ") +
      (c.geo_precision ? " (" + c.geo_precision + ")" : ""));
    row(dl, "Date", c.event_date ? c.event_date + (c.date_precision ? " (" + c.date_precision + ")" : "") : "unknown");
    row(dl, "Fatalities", c.fatalities);
    row(dl, "Merged event id", c.cluster_id);
    panel.appendChild(dl);
    var list = el("ol", "reports-list");
    list.id = "reports";
    (c.event_ids || []).forEach(function (id, i) {
      var item = el("li");
      var button = el("button", "show-report", "Report " + (i + 1));
      button.type = "button";
      button.dataset.eventId = id;
      button.addEventListener("click", function () { selectEvent(id); });
      item.appendChild(button);
      list.appendChild(item);
    });
    panel.appendChild(el("h3", null, "Reports of this event"));
    panel.appendChild(list);
    panel.scrollTop = 0;
  }

  function showEvent(ev) {
    var panel = document.getElementById("panel");
    while (panel.firstChild) { panel.removeChild(panel.firstChild); }
    var head = el("h2", "type type-" + ev.event_type, ev.event_type + (ev.mode ? " · " + ev.mode : ""));
    panel.appendChild(head);
    var modality = el("p", "modality modality-" + ev.modality, ev.modality);
    panel.appendChild(modality);
    var quote = el("blockquote", "sentence");
    quote.id = "sentence";
    quote.appendChild(highlighted(ev.sentence, ev.start, spansOf(ev)));
    panel.appendChild(quote);
    var dl = el("dl");
    row(dl, "Trigger", ev.trigger);
    row(dl, "Actor 1", [ev.actor1, ev.actor1_country, ev.actor1_kind].filter(Boolean).join(" · "));
    row(dl, "Actor 2", [ev.actor2, ev.actor2_country, ev.actor2_kind].filter(Boolean).join(" · "));
    row(dl, "Place", [ev.place, ev.admin2, ev.admin1, ev.country].filter(Boolean).join(", "));
    if (ev.latitude !== null && ev.longitude !== null) {
      row(dl, "Coordinates", ev.latitude.toFixed(4) + ", " + ev.longitude.toFixed(4) +
        (ev.geo_precision ? " (" + ev.geo_precision + ")" : ""));
    }
    row(dl, "Date", ev.event_date ? ev.event_date + (ev.date_precision ? " (" + ev.date_precision + ")" : "") : "unknown");
    row(dl, "Published", ev.published);
    row(dl, "Fatalities", ev.fatalities);
    row(dl, "Confidence", ev.confidence !== null ? Number(ev.confidence).toFixed(2) : null);
    row(dl, "ACLED", [ev.acled_event_type, ev.acled_sub_event_type].filter(Boolean).join(" / "));
    row(dl, "Source", ev.source);
    if (ev.report_count > 1) {
      row(dl, "Reports", ev.report_count + " (this event was reported in " + ev.report_count + " articles)");
    }
    row(dl, "Event id", ev.event_id);
    panel.appendChild(dl);
    var links = el("p", "links");
    var href = safeHttpUrl(ev.url);
    if (href) {
      var a = el("a", "article-link", "Original article");
      a.href = href;
      a.rel = "noopener noreferrer";
      a.target = "_blank";
      links.appendChild(a);
      links.appendChild(document.createTextNode(" "));
    } else if (ev.url) {
      links.appendChild(el("span", "article-url", ev.url));
    }
    var more = el("button", "show-article", "Show article text");
    more.type = "button";
    more.addEventListener("click", function () { showArticle(ev); });
    links.appendChild(more);
    panel.appendChild(links);
    panel.scrollTop = 0;
  }

  function showArticle(ev) {
    api("/api/articles/" + encodeURIComponent(ev.article_id)).then(function (r) { return r.json(); })
      .then(function (art) {
        var panel = document.getElementById("panel");
        var old = document.getElementById("article");
        if (old) { old.parentNode.removeChild(old); }
        var box = el("article");
        box.id = "article";
        box.appendChild(el("h3", null, art.title || "Untitled article"));
        box.appendChild(el("p", "meta", [art.source, art.published].filter(Boolean).join(" · ")));
        var spans = [];
        art.events.forEach(function (e) {
          e.spans.forEach(function (s) {
            if (e.event_id === ev.event_id) { spans.push(s); }
            else if (s.role === "sentence") { spans.push({ role: "other", start: s.start, end: s.end }); }
          });
        });
        var text = el("div", "article-text");
        text.appendChild(highlighted(art.text, 0, spans));
        box.appendChild(text);
        panel.appendChild(box);
        var current = box.querySelector("mark.hl-sentence");
        if (current) { current.scrollIntoView({ block: "center" }); }
      })
      .catch(function (e) { setStatus("Article could not be loaded: " + e.message, true); });
  }

  // ------------------------------------------------------------------ loading

  function loadEvents() {
    var seq = ++state.seq;
    var p = filterParams(true);
    var merged = view() === "clusters";
    p.set("limit", String(MAP_LIMIT));
    p.set("fields", (merged ? CLUSTER_FIELDS : MAP_FIELDS).join(","));
    setStatus("Loading…");
    document.body.dataset.loading = "1";
    return api(listPath(), p).then(function (r) { return r.json(); }).then(function (page) {
      if (seq !== state.seq) { return; }
      var records = merged ? page.clusters : page.events;
      state.events = records;
      document.body.dataset.view = view();
      drawMarkers(records);
      drawTable(records);
      var total = selectionTotal();
      var shown = records.length;
      var noun = merged ? " merged events" : " events";
      var text = shown + noun;
      if (total !== null && total > shown) { text = "Showing the newest " + shown + " of " + total + noun; }
      if (state.brush) { text += " from " + state.brush[0] + " to " + state.brush[1]; }
      setStatus(text + (shown > TABLE_ROWS ? " (table: first " + TABLE_ROWS + ")" : ""));
      document.body.dataset.loading = "0";
      document.body.dataset.events = String(shown);
    }).catch(function (e) {
      if (seq !== state.seq) { return; }
      document.body.dataset.loading = "0";
      setStatus(e.message, true);
    });
  }

  function selectionTotal() {
    if (!state.stats) { return null; }
    if (!state.brush) { return state.stats.total; }
    var n = 0;
    state.stats.by_day.forEach(function (d) {
      if (d[0] >= state.brush[0] && d[0] <= state.brush[1]) { n += d[1]; }
    });
    return n;
  }

  function loadAll(keepBrush) {
    if (keepBrush !== true) { state.brush = null; }
    return api("/api/stats", timelineParams()).then(function (r) { return r.json(); })
      .then(function (stats) {
        state.stats = stats;
        drawTimeline(stats);
        return loadEvents();
      })
      .catch(function (e) { setStatus(e.message, true); document.body.dataset.loading = "0"; });
  }

  // ------------------------------------------------------------------ export

  function exportSelection(format) {
    var p = filterParams(true);
    p.set("format", format);
    p.set("limit", String(MAP_LIMIT));
    var parts = [];
    var features = [];
    var fetched = 0;
    setStatus("Exporting…");
    function next(cursor) {
      if (cursor) { p.set("cursor", cursor); }
      return api(listPath(), p).then(function (r) {
        var nextCursor = r.headers.get("X-Next-Cursor");
        return (format === "csv" ? r.text() : r.json()).then(function (body) {
          if (format === "csv") {
            parts.push(parts.length ? body.slice(body.indexOf("\n") + 1) : body);
            fetched += Math.max(0, body.split("\n").length - 2);
          } else {
            features = features.concat(body.features);
            fetched = features.length;
          }
          if (nextCursor && fetched < EXPORT_MAX) { return next(nextCursor); }
          return null;
        });
      });
    }
    next(null).then(function () {
      var blob = format === "csv"
        ? new Blob(parts, { type: "text/csv" })
        : new Blob([JSON.stringify({ type: "FeatureCollection", features: features })],
          { type: "application/geo+json" });
      var a = el("a");
      a.href = URL.createObjectURL(blob);
      a.download = (view() === "clusters" ? "merged-events." : "events.") + (format === "csv" ? "csv" : "geojson");
      document.body.appendChild(a);
      a.click();
      setTimeout(function () { URL.revokeObjectURL(a.href); a.remove(); }, 1000);
      setStatus("Exported " + fetched + " events as " + format.toUpperCase());
    }).catch(function (e) { setStatus("Export failed: " + e.message, true); });
  }

  // ------------------------------------------------------------------ start

  function init() {
    var select = document.getElementById("f-type");
    TYPES.forEach(function (t) { select.appendChild(el("option", null, t)); });
    initMap();
    initBrushing();
    initTable();
    document.getElementById("filters").addEventListener("submit", function (evt) {
      evt.preventDefault();
      loadAll();
    });
    ["f-view", "f-type", "f-modality", "f-inview"].forEach(function (id) {
      document.getElementById(id).addEventListener("change", function () { loadAll(); });
    });
    map.on("moveend", function () {
      if (document.getElementById("f-inview").checked) { loadAll(true); }
    });
    document.getElementById("reset-filters").addEventListener("click", function () {
      document.getElementById("filters").reset();
      loadAll();
    });
    document.getElementById("export-csv").addEventListener("click", function () { exportSelection("csv"); });
    document.getElementById("export-geojson").addEventListener("click", function () { exportSelection("geojson"); });
    window.addEventListener("resize", function () { if (state.stats) { drawTimeline(state.stats); } });
    // Read-only hooks for tests and for analysts at the console; they expose no new data.
    window.eventwire = {
      markerPositions: function () {
        return markers.getLayers().map(function (m) {
          var ll = m.getLatLng();
          var tip = m.getTooltip() ? m.getTooltip().getContent() : "";
          return {
            id: m.eventId, lat: ll.lat, lon: ll.lng, reports: m.reportCount,
            label: typeof tip === "function" ? tip(m) : String(tip || "")
          };
        });
      },
      reload: loadAll,
      setView: function (lat, lon, zoom) { map.setView([lat, lon], zoom, { animate: false }); }
    };
    loadAll();
  }

  document.addEventListener("DOMContentLoaded", init);
}());
