/* thidua.js - the little the pages do with a script (they work without it, the charts
   apart): a print button, and charts drawn with Chart.js (loaded only where a page has
   a <canvas data-chart>). A chart's data is the attribute itself, JSON:
   {type, labels, datasets: [{label, data, color}], stacked, horizontal}. A horizontal chart
   (one bar per unit) gets a height for its number of bars. No inline script anywhere
   (the Content-Security-Policy forbids it). */
(function () {
  "use strict";
  /* a unit's name beside its bar, shortened on a narrow screen by its start ("Ủy ban
     nhân dân xã An Phú" keeps "…xã An Phú", what tells the units apart); the tooltip and
     the table give it whole */
  function shortLabel(v) {
    var l = String(this.getLabelForValue(v)), max = window.innerWidth < 600 ? 18 : 28;
    return l.length > max ? "\u2026" + l.slice(l.length - max + 1) : l;
  }
  function draw() {
    document.querySelectorAll("canvas[data-chart]").forEach(function (c) {
      var d;
      try { d = JSON.parse(c.getAttribute("data-chart")); } catch (e) { return; }
      if (d.horizontal && c.parentNode)
        c.parentNode.style.height = Math.max(240, 28 * d.labels.length + 90) + "px";
      new window.Chart(c, {
        type: d.type || "bar",
        data: { labels: d.labels, datasets: d.datasets.map(function (s) {
          return { label: s.label, data: s.data, backgroundColor: s.color }; }) },
        options: { responsive: true, maintainAspectRatio: false, animation: false,
                   indexAxis: d.horizontal ? "y" : "x",
                   plugins: { legend: { position: "top" } },
                   scales: { x: { stacked: !!d.stacked, beginAtZero: true, ticks: { precision: 0 } },
                             y: { stacked: !!d.stacked, beginAtZero: true,
                                  ticks: d.horizontal ? { autoSkip: false, callback: shortLabel, font: { size: 11 } } : { precision: 0 } } } }
      });
      c.setAttribute("data-drawn", "1");
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-print]").forEach(function (b) {
      b.addEventListener("click", function () { window.print(); });
    });
    if (document.querySelector("canvas[data-chart]")) {
      var s = document.createElement("script");
      s.src = "/static/chart.js";
      s.onload = draw;
      document.head.appendChild(s);
    }
  });
})();
