// The library map on /trends: points from /api/trends/map drawn on a canvas, coloured by primary category.
// Click lists the nearest papers; the search box rings papers whose titles hold every typed word.
(function () {
  "use strict";
  var COLOURS = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"];
  var OTHER = "#b5b5b5";
  var canvas = document.getElementById("map");
  if (!canvas) return;
  var ctx = canvas.getContext("2d"), status = document.getElementById("map-status");
  var points = [], colourOf = {}, found = [], picked = null;
  var PAD = 10;

  function px(p) { return [PAD + p[1] * (canvas.width - 2 * PAD), PAD + p[2] * (canvas.height - 2 * PAD)]; }

  function draw() {
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    ctx.fillStyle = "#fff";
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    var dim = found.length > 0;
    points.forEach(function (p) {
      var xy = px(p);
      ctx.globalAlpha = dim ? 0.25 : 0.75;
      ctx.fillStyle = colourOf[p[3]] || OTHER;
      ctx.fillRect(xy[0] - 1.5, xy[1] - 1.5, 3, 3);
    });
    ctx.globalAlpha = 1;
    found.forEach(function (p) {
      var xy = px(p);
      ctx.strokeStyle = "#000"; ctx.lineWidth = 1.5;
      ctx.beginPath(); ctx.arc(xy[0], xy[1], 4, 0, 2 * Math.PI); ctx.stroke();
    });
    if (picked) {
      ctx.strokeStyle = "#000"; ctx.lineWidth = 1;
      ctx.beginPath(); ctx.arc(picked[0], picked[1], picked[2], 0, 2 * Math.PI); ctx.stroke();
    }
  }

  function listPapers(list) {
    var ol = document.getElementById("map-near");
    while (ol.firstChild) ol.removeChild(ol.firstChild);
    list.forEach(function (p) {
      var li = document.createElement("li"), a = document.createElement("a"), cat = document.createElement("span");
      a.href = "/paper/" + encodeURI(p[0]);
      a.textContent = p[4];
      cat.className = "small";
      cat.textContent = " " + p[3];
      li.appendChild(a); li.appendChild(cat); ol.appendChild(li);
    });
  }

  function legend(cats) {
    var ul = document.getElementById("map-legend");
    cats.forEach(function (c, i) {
      colourOf[c[0]] = COLOURS[i % COLOURS.length];
      var li = document.createElement("li"), sw = document.createElement("span");
      sw.className = "swatch c" + i;
      li.appendChild(sw);
      li.appendChild(document.createTextNode(c[0] + " (" + c[1] + ")"));
      ul.appendChild(li);
    });
    var li = document.createElement("li"), sw = document.createElement("span");
    sw.className = "swatch other"; li.appendChild(sw); li.appendChild(document.createTextNode("other"));
    ul.appendChild(li);
  }

  canvas.addEventListener("click", function (ev) {
    var r = canvas.getBoundingClientRect();
    var x = (ev.clientX - r.left) * canvas.width / r.width, y = (ev.clientY - r.top) * canvas.height / r.height;
    var near = points.map(function (p) { var xy = px(p); return [Math.hypot(xy[0] - x, xy[1] - y), p]; })
      .sort(function (a, b) { return a[0] - b[0]; }).slice(0, 12);
    picked = [x, y, near.length ? Math.max(near[near.length - 1][0], 4) : 4];
    draw();
    listPapers(near.map(function (n) { return n[1]; }));
  });

  var find = document.getElementById("map-find");
  find.addEventListener("input", function () {
    var words = find.value.toLowerCase().split(/\s+/).filter(Boolean);
    found = !words.length ? [] : points.filter(function (p) {
      var t = p[4].toLowerCase();
      return words.every(function (w) { return t.indexOf(w) >= 0; });
    });
    status.textContent = words.length ? found.length + " papers match" : points.length + " papers shown";
    draw();
    listPapers(found.slice(0, 12));
  });

  fetch(canvas.getAttribute("data-src"), {credentials: "same-origin", headers: {"Accept": "application/json"}})
    .then(function (r) { if (!r.ok) throw new Error("HTTP " + r.status); return r.json(); })
    .then(function (data) {
      points = data.points;
      legend(data.categories);
      draw();
      canvas.setAttribute("data-points", String(points.length));
      status.textContent = points.length + " of " + data.embedded + " embedded papers shown · " + data.method +
        " (axes explain " + Math.round(100 * (data.explained[0] + data.explained[1])) + "% of the variance)";
    })
    .catch(function (e) { status.textContent = "the map could not be loaded: " + e.message; });
})();
