/* Hotspot Map's own map code (no third-party code, nothing fetched): compact geometry
 * decoding, GCJ-02 display for AMap tiles, H3 hexagons that follow the zoom, report
 * points binned into count bubbles when zoomed out, and a canvas heat map.
 * Inlined into every map page before Leaflet builds the map; pure helpers come first
 * so that they run (and are tested) without a browser. */
(function (root) {
  "use strict";
  if (root.HotMap) {
    return;
  }
  var H = {};
  root.HotMap = H;

  // ---- compact numbers: zigzag, 5 bits a digit, 32 added while more digits follow ----

  var DIGITS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  var DIGIT_VALUE = {};
  for (var d = 0; d < DIGITS.length; d++) {
    DIGIT_VALUE[DIGITS.charAt(d)] = d;
  }

  /* Decode a string of signed integers (layers/base.py encode_ints writes them). */
  H.decode = function (text) {
    var out = [];
    var i = 0;
    while (i < text.length) {
      var value = 0;
      var scale = 1;
      var digit;
      do {
        digit = DIGIT_VALUE[text.charAt(i++)];
        value += (digit % 32) * scale;
        scale *= 32;
      } while (digit >= 32);
      out.push(value % 2 === 1 ? -(value + 1) / 2 : value / 2);
    }
    return out;
  };

  /* Running sums: values written as steps from the previous one. */
  H.cumsum = function (values) {
    var total = 0;
    for (var i = 0; i < values.length; i++) {
      total += values[i];
      values[i] = total;
    }
    return values;
  };

  /* Points {origin, x, y} (x, y as encoded steps) as arrays of lng and lat. */
  H.lngLat = function (data) {
    var x = H.cumsum(H.decode(data.x));
    var y = H.cumsum(H.decode(data.y));
    var lng = new Float64Array(x.length);
    var lat = new Float64Array(x.length);
    for (var i = 0; i < x.length; i++) {
      lng[i] = (data.origin[0] + x[i]) / 1e6;
      lat[i] = (data.origin[1] + y[i]) / 1e6;
    }
    return { lng: lng, lat: lat };
  };

  /* Rings of [lat, lng] from "n, then n (dlng, dlat) steps" runs, in 1e-6 degrees
   * from origin [lng, lat]; the running point carries over from ring to ring. */
  H.rings = function (text, origin) {
    var values = H.decode(text);
    var rings = [];
    var x = 0;
    var y = 0;
    var i = 0;
    while (i < values.length) {
      var n = values[i++];
      var ring = new Array(n);
      for (var k = 0; k < n; k++) {
        x += values[i++];
        y += values[i++];
        ring[k] = [(origin[1] + y) / 1e6, (origin[0] + x) / 1e6];
      }
      rings.push(ring);
    }
    return rings;
  };

  /* Minutes since 1970 (naive local time) as "YYYY-MM-DD HH:MM". */
  H.stamp = function (minutes) {
    return new Date(minutes * 60000).toISOString().slice(0, 16).replace("T", " ");
  };

  H.escape = function (text) {
    return String(text)
      .replace(/&/g, "&amp;")
      .replace(/</g, "&lt;")
      .replace(/>/g, "&gt;")
      .replace(/"/g, "&quot;");
  };

  // ---- GCJ-02, the published formula (as geo/crs.py) ---------------------------------

  var KRASOVSKY_A = 6378245.0;
  var KRASOVSKY_EE = 0.00669342162296594323;
  var PI = Math.PI;

  function outsideChina(lng, lat) {
    return lng < 72.004 || lng > 137.8347 || lat < 0.8293 || lat > 55.8271;
  }

  function gcjOffset(lng, lat) {
    var x = lng - 105.0;
    var y = lat - 35.0;
    var sqrtAbsX = Math.sqrt(Math.abs(x));
    var common = ((20.0 * Math.sin(6.0 * x * PI) + 20.0 * Math.sin(2.0 * x * PI)) * 2.0) / 3.0;
    var dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * sqrtAbsX + common;
    dlat += ((20.0 * Math.sin(y * PI) + 40.0 * Math.sin((y / 3.0) * PI)) * 2.0) / 3.0;
    dlat += ((160.0 * Math.sin((y / 12.0) * PI) + 320.0 * Math.sin((y * PI) / 30.0)) * 2.0) / 3.0;
    var dlng = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * sqrtAbsX + common;
    dlng += ((20.0 * Math.sin(x * PI) + 40.0 * Math.sin((x / 3.0) * PI)) * 2.0) / 3.0;
    dlng += ((150.0 * Math.sin((x / 12.0) * PI) + 300.0 * Math.sin((x / 30.0) * PI)) * 2.0) / 3.0;
    var radLat = (lat / 180.0) * PI;
    var magic = 1.0 - KRASOVSKY_EE * Math.sin(radLat) * Math.sin(radLat);
    var sqrtMagic = Math.sqrt(magic);
    dlat = (dlat * 180.0) / (((KRASOVSKY_A * (1.0 - KRASOVSKY_EE)) / (magic * sqrtMagic)) * PI);
    dlng = (dlng * 180.0) / ((KRASOVSKY_A / sqrtMagic) * Math.cos(radLat) * PI);
    return [dlng, dlat];
  }

  /* WGS84 -> GCJ-02 as [lng, lat]; unchanged outside China's box. */
  H.wgs84ToGcj02 = function (lng, lat) {
    if (outsideChina(lng, lat)) {
      return [lng, lat];
    }
    var d = gcjOffset(lng, lat);
    return [lng + d[0], lat + d[1]];
  };

  /* GCJ-02 -> WGS84 by fixed-point iteration (the one-step inverse is off by metres). */
  H.gcj02ToWgs84 = function (lng, lat) {
    var x = lng;
    var y = lat;
    for (var k = 0; k < 30; k++) {
      var f = H.wgs84ToGcj02(x, y);
      var ex = f[0] - lng;
      var ey = f[1] - lat;
      x -= ex;
      y -= ey;
      if (Math.abs(ex) <= 1e-10 && Math.abs(ey) <= 1e-10) {
        break;
      }
    }
    return [x, y];
  };

  // ---- binning points into a screen grid ----------------------------------------------

  /* Group point indices by the grid square (size px) of their pixel coordinates.
   * Returns arrays of indices, in order of first appearance. */
  H.bin = function (px, py, indices, size) {
    var where = {};
    var groups = [];
    for (var k = 0; k < indices.length; k++) {
      var i = indices[k];
      var key = Math.floor(px[i] / size) + ":" + Math.floor(py[i] / size);
      var group = where[key];
      if (group === undefined) {
        group = where[key] = [];
        groups.push(group);
      }
      group.push(i);
    }
    return groups;
  };

  /* The heat map's opacity per point: the densest grid square of the view then reaches
   * about 0.85 of full intensity, so both a few reports and thousands show their shape. */
  H.heatAlpha = function (px, py, indices, size) {
    var densest = 1;
    var groups = H.bin(px, py, indices, size);
    for (var g = 0; g < groups.length; g++) {
      densest = Math.max(densest, groups[g].length);
    }
    return Math.min(0.8, 2 / densest);
  };

  // ---- Leaflet parts ------------------------------------------------------------------

  function withLeaflet(L) {
    var merc = L.Projection.SphericalMercator;

    /* Web Mercator of GCJ-02 coordinates: what AMap's tiles are drawn in. Data stays in
     * WGS84; the projection shifts everything drawn, and clicks come back as WGS84. */
    H.GCJ02 = L.extend({}, L.CRS.EPSG3857, {
      code: "GCJ02",
      projection: {
        R: merc.R,
        MAX_LATITUDE: merc.MAX_LATITUDE,
        bounds: merc.bounds,
        project: function (latlng) {
          var g = H.wgs84ToGcj02(latlng.lng, latlng.lat);
          return merc.project(L.latLng(g[1], g[0]));
        },
        unproject: function (point) {
          var g = merc.unproject(point);
          var w = H.gcj02ToWgs84(g.lng, g.lat);
          return L.latLng(w[1], w[0]);
        },
      },
    });
    L.CRS.GCJ02 = H.GCJ02;

    var PANES = {
      hotmapCells: 380,
      hotmapHeat: 390,
      hotmapPoints: 450,
      hotmapBubbles: 460,
    };
    var CSS = [
      ".hotmap-bubble{position:absolute;box-sizing:border-box;border-radius:50%;",
      "border:2px solid rgba(255,255,255,.95);box-shadow:0 0 0 3px rgba(0,0,0,.15);",
      "color:#fff;font:700 12px/1 sans-serif;display:flex;align-items:center;",
      "justify-content:center;cursor:pointer;pointer-events:auto;opacity:.92}",
      ".hotmap-bubble:hover{opacity:1}",
      ".hotmap-legend{background:rgba(255,255,255,.88);padding:4px 6px;border-radius:4px;",
      "font-size:12px;line-height:16px}",
      ".hotmap-legend i{display:inline-block;width:12px;height:12px;margin-right:4px;",
      "vertical-align:middle}",
      ".hotmap-popup th{text-align:left;font-weight:normal;color:#555;padding-right:8px}",
      ".hotmap-notice{background:rgba(255,255,255,.88);padding:2px 6px;border-radius:4px;",
      "font-size:12px;color:#555}",
    ].join("");

    /* Panes (cells under the outlines, points over them) and the styles, once a map. */
    H.setup = function (map) {
      for (var name in PANES) {
        if (!map.getPane(name)) {
          map.createPane(name).style.zIndex = PANES[name];
        }
      }
      map.getPane("hotmapHeat").style.pointerEvents = "none";
      var doc = map.getContainer().ownerDocument;
      if (!doc.getElementById("hotmap-css")) {
        var style = doc.createElement("style");
        style.id = "hotmap-css";
        style.textContent = CSS;
        doc.head.appendChild(style);
      }
    };

    /* A group that makes its children the first time it is shown. */
    var LazyGroup = L.FeatureGroup.extend({
      initialize: function (build) {
        L.FeatureGroup.prototype.initialize.call(this, []);
        this._build = build;
      },
      onAdd: function (map) {
        if (this._build) {
          this._build(this);
          this._build = null;
        }
        L.FeatureGroup.prototype.onAdd.call(this, map);
      },
    });

    /* Hexagons of one H3 resolution: spec {res, origin, cells, ids, counts, k (palette
     * index), palette, alpha? (fill opacity per palette index), z? (Gi* z), labels};
     * each a path of class "hotmap-hex hotmap-hex-r<res>". */
    H.hexes = function (spec, style) {
      return new LazyGroup(function (group) {
        var rings = H.rings(spec.cells, spec.origin);
        var labels = spec.labels;
        for (var i = 0; i < rings.length; i++) {
          var color = spec.palette[spec.k[i]];
          var polygon = L.polygon(rings[i], {
            pane: "hotmapCells",
            className: "hotmap-hex hotmap-hex-r" + spec.res,
            color: color,
            weight: style.weight,
            opacity: style.opacity,
            fillColor: color,
            fillOpacity: spec.alpha ? spec.alpha[spec.k[i]] : style.fillOpacity,
          });
          var tip = labels.cell + " " + spec.ids[i] + " · " + labels.count + " " + spec.counts[i];
          if (spec.z) {
            tip += " · Gi* z " + spec.z[i].toFixed(2) + " · " + labels.bins[spec.k[i]];
          }
          polygon.bindTooltip(H.escape(tip), { sticky: true });
          group.addLayer(polygon);
        }
      });
    };

    /* The outline of many cells as one path that takes no clicks (the empty grid). */
    H.outline = function (spec, style) {
      return new LazyGroup(function (group) {
        var parts = H.rings(spec.cells, spec.origin).map(function (ring) {
          return [ring];
        });
        if (parts.length) {
          group.addLayer(
            L.polygon(
              parts,
              L.extend({ pane: "hotmapCells", className: "hotmap-grid", interactive: false }, style)
            )
          );
        }
      });
    };

    /* Show, in group, the layers of the level whose zoom range holds the map's zoom,
     * and its legend; levels: [{layers, from, to, legend}], from/to null when open. */
    H.zoomSwitch = function (map, group, levels, options) {
      var current = null;
      var legend = L.control({ position: (options && options.position) || "bottomright" });
      legend.onAdd = function () {
        return L.DomUtil.create("div", "hotmap-legend");
      };
      function levelAt(zoom) {
        for (var i = 0; i < levels.length; i++) {
          var level = levels[i];
          if ((level.from === null || zoom >= level.from) && (level.to === null || zoom < level.to)) {
            return level;
          }
        }
        return null;
      }
      function update() {
        var level = levelAt(map.getZoom());
        if (level !== current) {
          if (current) {
            current.layers.forEach(function (layer) {
              group.removeLayer(layer);
            });
          }
          if (level) {
            level.layers.forEach(function (layer) {
              group.addLayer(layer);
            });
          }
          current = level;
        }
        if (legend.getContainer()) {
          legend.getContainer().innerHTML = level ? level.legend : "";
        }
      }
      group.on("add", function () {
        map.on("zoomend", update);
        legend.addTo(map);
        update();
      });
      group.on("remove", function () {
        map.off("zoomend", update);
        legend.remove();
      });
      if (map.hasLayer(group)) {
        group.fire("add");
      }
      group.hotmapLevelAt = levelAt;
      return group;
    };

    function popupContent(data, i) {
      var table = document.createElement("table");
      table.className = "hotmap-popup";
      var values = [
        data.id[i],
        data.categories[data.c[i]],
        data.statuses[data.s[i]],
        H.stamp(data.t0 + data.t[i]),
        data.a[i] === null ? "" : data.a[i],
      ];
      for (var k = 0; k < values.length; k++) {
        var row = table.insertRow();
        var head = document.createElement("th");
        head.textContent = data.labels[k];
        row.appendChild(head);
        row.insertCell().textContent = values[k];
      }
      return table;
    }

    /* Reports of one map layer: circle markers (path.hotmap-point, white outline) when
     * the layer holds at most options.clusterAbove reports, or has at most that many in
     * view, or the zoom is options.individualZoom or more; else count bubbles
     * (div.hotmap-bubble, a click zooms in) per grid square of options.grid px, a lone
     * report in its square still a marker. Footprints (path.hotmap-footprint) are
     * always drawn. */
    H.Points = L.FeatureGroup.extend({
      options: {
        color: "#636363",
        radius: 5,
        clusterAbove: 100,
        individualZoom: 17,
        grid: 60,
      },

      initialize: function (data, options) {
        L.FeatureGroup.prototype.initialize.call(this, []);
        L.setOptions(this, options);
        var at = H.lngLat(data);
        var n = at.lng.length;
        this._lng = at.lng;
        this._lat = at.lat;
        this._n = n;
        this._data = {
          origin: data.origin,
          id: H.cumsum(H.decode(data.id)),
          c: H.decode(data.c),
          s: H.decode(data.s),
          t: H.decode(data.t),
          t0: data.t0,
          a: data.a,
          categories: data.categories,
          statuses: data.statuses,
          dim: data.dim,
          labels: data.labels,
          fp: data.fp,
        };
        this._markers = new Array(n);
        this._shown = new Uint8Array(n);
        this._pxZoom = null;
        this._px = new Float64Array(n);
        this._py = new Float64Array(n);
        this._addFootprints();
      },

      _popup: function (i) {
        var data = this._data;
        return function () {
          return popupContent(data, i);
        };
      },

      _addFootprints: function () {
        var data = this._data;
        if (!data.fp || !data.fp.rings) {
          return;
        }
        var rings = H.rings(data.fp.rings, data.origin);
        var at = 0;
        for (var f = 0; f < data.fp.index.length; f++) {
          var count = data.fp.count[f];
          var polygon = L.polygon(rings.slice(at, at + count), {
            pane: "hotmapPoints",
            className: "hotmap-footprint",
            color: this.options.color,
            weight: 2,
            fillColor: this.options.color,
            fillOpacity: 0.3,
          });
          at += count;
          polygon.bindPopup(this._popup(data.fp.index[f]));
          this.addLayer(polygon);
        }
      },

      _marker: function (i) {
        var marker = this._markers[i];
        if (!marker) {
          var dim = this._data.dim[this._data.s[i]];
          marker = this._markers[i] = L.circleMarker([this._lat[i], this._lng[i]], {
            pane: "hotmapPoints",
            className: "hotmap-point",
            radius: this.options.radius,
            color: "#ffffff",
            weight: 1,
            fillColor: this.options.color,
            fillOpacity: dim ? 0.35 : 0.85,
          });
          marker.bindPopup(this._popup(i));
        }
        return marker;
      },

      onAdd: function (map) {
        L.FeatureGroup.prototype.onAdd.call(this, map);
        this._box = L.DomUtil.create("div", "hotmap-bubbles leaflet-zoom-hide", map.getPane("hotmapBubbles"));
        map.on("moveend", this.redraw, this);
        this.redraw();
      },

      onRemove: function (map) {
        map.off("moveend", this.redraw, this);
        L.DomUtil.remove(this._box);
        this._box = null;
        L.FeatureGroup.prototype.onRemove.call(this, map);
      },

      _project: function (zoom) {
        if (this._pxZoom === zoom) {
          return;
        }
        for (var i = 0; i < this._n; i++) {
          var p = this._map.project([this._lat[i], this._lng[i]], zoom);
          this._px[i] = p.x;
          this._py[i] = p.y;
        }
        this._pxZoom = zoom;
      },

      /* Markers and bubbles for the current view. */
      redraw: function () {
        var map = this._map;
        if (!map) {
          return;
        }
        var zoom = map.getZoom();
        this._project(zoom);
        var view = map.getPixelBounds();
        var margin = view.getSize().multiplyBy(0.25);
        var minX = view.min.x - margin.x;
        var minY = view.min.y - margin.y;
        var maxX = view.max.x + margin.x;
        var maxY = view.max.y + margin.y;
        var px = this._px;
        var py = this._py;
        function inView(x, y) {
          return x >= minX && x <= maxX && y >= minY && y <= maxY;
        }
        var visible = [];
        for (var i = 0; i < this._n; i++) {
          if (inView(px[i], py[i])) {
            visible.push(i);
          }
        }
        var want = new Uint8Array(this._n);
        var bubbles = [];
        if (this._n <= this.options.clusterAbove) {
          // a small layer: every report a marker, wherever the view is
          want.fill(1);
        } else if (zoom >= this.options.individualZoom || visible.length <= this.options.clusterAbove) {
          visible.forEach(function (j) {
            want[j] = 1;
          });
        } else {
          var all = new Array(this._n);
          for (var k = 0; k < this._n; k++) {
            all[k] = k;
          }
          var groups = H.bin(px, py, all, this.options.grid);
          for (var g = 0; g < groups.length; g++) {
            var members = groups[g];
            var sx = 0;
            var sy = 0;
            for (var m = 0; m < members.length; m++) {
              sx += px[members[m]];
              sy += py[members[m]];
            }
            sx /= members.length;
            sy /= members.length;
            if (!inView(sx, sy)) {
              continue;
            }
            if (members.length === 1) {
              want[members[0]] = 1;
            } else {
              bubbles.push({ x: sx, y: sy, members: members });
            }
          }
        }
        for (var j = 0; j < this._n; j++) {
          if (want[j] && !this._shown[j]) {
            this.addLayer(this._marker(j));
            this._shown[j] = 1;
          } else if (!want[j] && this._shown[j]) {
            this.removeLayer(this._markers[j]);
            this._shown[j] = 0;
          }
        }
        this._drawBubbles(bubbles, map.getPixelOrigin(), zoom);
      },

      _drawBubbles: function (bubbles, origin, zoom) {
        var box = this._box;
        box.textContent = "";
        var self = this;
        bubbles.forEach(function (bubble) {
          var n = bubble.members.length;
          var size = Math.round(22 + 8 * Math.log(n) / Math.LN10);
          var div = L.DomUtil.create("div", "hotmap-bubble", box);
          div.textContent = n;
          div.style.width = div.style.height = size + "px";
          div.style.left = Math.round(bubble.x - origin.x - size / 2) + "px";
          div.style.top = Math.round(bubble.y - origin.y - size / 2) + "px";
          div.style.background = self.options.color;
          L.DomEvent.disableClickPropagation(div);
          L.DomEvent.on(div, "click", function () {
            self._zoomInto(bubble.members, zoom);
          });
        });
      },

      _zoomInto: function (members, zoom) {
        var map = this._map;
        var self = this;
        var bounds = L.latLngBounds(
          members.map(function (i) {
            return [self._lat[i], self._lng[i]];
          })
        );
        var target = Math.min(map.getBoundsZoom(bounds, false, [40, 40]), map.getMaxZoom());
        map.setView(bounds.getCenter(), Math.max(zoom + 1, Math.min(target, this.options.individualZoom)));
      },
    });

    H.points = function (data, options) {
      return new H.Points(data, options);
    };

    /* A heat map drawn on a canvas: a blurred spot per point, accumulated, then coloured
     * from a blue-to-red ramp. Takes no clicks. */
    H.Heat = L.Layer.extend({
      options: { pane: "hotmapHeat", radius: 22, opacity: 0.75 },

      initialize: function (data, options) {
        L.setOptions(this, options);
        var at = H.lngLat(data);
        this._lng = at.lng;
        this._lat = at.lat;
        this._n = at.lng.length;
      },

      onAdd: function (map) {
        this._canvas = L.DomUtil.create("canvas", "hotmap-heat leaflet-zoom-hide", this.getPane());
        this._canvas.style.pointerEvents = "none";
        this._canvas.style.opacity = this.options.opacity;
        map.on("moveend resize", this._draw, this);
        this._draw();
      },

      onRemove: function (map) {
        map.off("moveend resize", this._draw, this);
        L.DomUtil.remove(this._canvas);
        this._canvas = null;
      },

      _stamp: function (r) {
        var stamp = document.createElement("canvas");
        stamp.width = stamp.height = 2 * r;
        var ctx = stamp.getContext("2d");
        var gradient = ctx.createRadialGradient(r, r, 0, r, r, r);
        gradient.addColorStop(0, "rgba(0,0,0,1)");
        gradient.addColorStop(1, "rgba(0,0,0,0)");
        ctx.fillStyle = gradient;
        ctx.fillRect(0, 0, 2 * r, 2 * r);
        return stamp;
      },

      _ramp: function () {
        var canvas = document.createElement("canvas");
        canvas.width = 256;
        canvas.height = 1;
        var ctx = canvas.getContext("2d");
        var gradient = ctx.createLinearGradient(0, 0, 256, 0);
        gradient.addColorStop(0.0, "#313695");
        gradient.addColorStop(0.3, "#4575b4");
        gradient.addColorStop(0.5, "#74add1");
        gradient.addColorStop(0.65, "#fee090");
        gradient.addColorStop(0.8, "#fdae61");
        gradient.addColorStop(0.9, "#f46d43");
        gradient.addColorStop(1.0, "#a50026");
        ctx.fillStyle = gradient;
        ctx.fillRect(0, 0, 256, 1);
        return ctx.getImageData(0, 0, 256, 1).data;
      },

      _draw: function () {
        var map = this._map;
        var canvas = this._canvas;
        if (!map || !canvas) {
          return;
        }
        var size = map.getSize();
        canvas.width = size.x;
        canvas.height = size.y;
        L.DomUtil.setPosition(canvas, map.containerPointToLayerPoint([0, 0]));
        var r = this.options.radius;
        var px = new Float64Array(this._n);
        var py = new Float64Array(this._n);
        var visible = [];
        for (var i = 0; i < this._n; i++) {
          var p = map.latLngToContainerPoint([this._lat[i], this._lng[i]]);
          px[i] = p.x;
          py[i] = p.y;
          if (p.x > -r && p.y > -r && p.x < size.x + r && p.y < size.y + r) {
            visible.push(i);
          }
        }
        if (!visible.length) {
          return;
        }
        var ctx = canvas.getContext("2d");
        var stamp = this._stamp(r);
        ctx.globalAlpha = H.heatAlpha(px, py, visible, r);
        for (var k = 0; k < visible.length; k++) {
          ctx.drawImage(stamp, px[visible[k]] - r, py[visible[k]] - r);
        }
        var ramp = this._ramp_ || (this._ramp_ = this._ramp());
        var image = ctx.getImageData(0, 0, size.x, size.y);
        var pixels = image.data;
        for (var q = 3; q < pixels.length; q += 4) {
          var a = pixels[q];
          if (a) {
            pixels[q - 3] = ramp[a * 4];
            pixels[q - 2] = ramp[a * 4 + 1];
            pixels[q - 1] = ramp[a * 4 + 2];
            pixels[q] = Math.min(255, 60 + a);
          }
        }
        ctx.putImageData(image, 0, 0);
      },
    });

    H.heat = function (data, options) {
      return new H.Heat(data, options);
    };

    /* Say once, in a corner, that the basemap failed: the vector layers still work. */
    H.watchTiles = function (map, tiles, message) {
      tiles.once("tileerror", function () {
        var notice = L.control({ position: "bottomleft" });
        notice.onAdd = function () {
          var div = L.DomUtil.create("div", "hotmap-notice");
          div.textContent = message;
          return div;
        };
        notice.addTo(map);
      });
    };
  }

  if (root.L) {
    withLeaflet(root.L);
  }
})(typeof window !== "undefined" ? window : globalThis);
