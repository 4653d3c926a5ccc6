/* thidua.js - the little the pages do with a script (they work without it, the charts
   apart): a print button, and charts drawn with Chart.js (loaded only where a page has
   a <canvas data-chart>). A chart's data is the attribute itself, JSON:
   {type, labels, datasets: [{label, data, color}], stacked}. No inline script anywhere
   (the Content-Security-Policy forbids it). */
(function () {
  "use strict";
  function draw() {
    document.querySelectorAll("canvas[data-chart]").forEach(function (c) {
      var d;
      try { d = JSON.parse(c.getAttribute("data-chart")); } catch (e) { return; }
      new window.Chart(c, {
        type: d.type || "bar",
        data: { labels: d.labels, datasets: d.datasets.map(function (s) {
          return { label: s.label, data: s.data, backgroundColor: s.color }; }) },
        options: { responsive: true, maintainAspectRatio: false, animation: false,
                   scales: { x: { stacked: !!d.stacked }, y: { stacked: !!d.stacked, beginAtZero: true } } }
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
