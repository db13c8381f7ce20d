/* The patient's symptom journal chart (Chart.js, vendored): every <canvas data-journal-chart="ID"> is drawn from the
   JSON in the <script id="ID" type="application/json"> that json_script wrote next to it. One slot per day; the four
   scores are lines (0 none – 10 worst) and the days with an infusion are grey bars labelled "Infusion". Lines differ
   in dash and point shape as well as colour, so they can be told apart without colour. */
(function () {
  "use strict";
  var SERIES = [
    { key: "muscle_weakness", label: "Muscle weakness", color: "#0d6efd", point: "circle", dash: [] },
    { key: "rash", label: "Rash", color: "#d63384", point: "rect", dash: [6, 3] },
    { key: "fatigue", label: "Tiredness", color: "#fd7e14", point: "triangle", dash: [2, 2] },
    { key: "pain", label: "Pain", color: "#198754", point: "rectRot", dash: [10, 4] }
  ];
  var TOP = 10;

  function draw(canvas) {
    if (canvas.dataset.drawn || typeof window.Chart === "undefined") { return; }
    var source = document.getElementById(canvas.dataset.journalChart);
    if (!source) { return; }
    var data = JSON.parse(source.textContent);
    var infusionDays = {};
    data.infusions.forEach(function (day) { infusionDays[day] = true; });
    canvas.dataset.drawn = "1";

    var lines = SERIES.map(function (series) {
      return {
        type: "line",
        label: series.label,
        data: data[series.key],
        borderColor: series.color,
        backgroundColor: series.color,
        borderDash: series.dash,
        pointStyle: series.point,
        pointRadius: 4,
        spanGaps: true,
        tension: 0,
        order: 1
      };
    });
    var infusions = {
      type: "bar",
      label: "Infusion",
      data: data.days.map(function (day) { return infusionDays[day] ? TOP : null; }),
      backgroundColor: "rgba(108, 117, 125, 0.3)",
      borderWidth: 0,
      barPercentage: 1,
      categoryPercentage: 0.8,
      order: 2
    };

    new window.Chart(canvas, {
      data: { labels: data.labels, datasets: lines.concat([infusions]) },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        interaction: { mode: "index", intersect: false },
        plugins: {
          legend: { position: "bottom", labels: { boxWidth: 14, usePointStyle: true } },
          tooltip: {
            filter: function (item) { return item.raw !== null; },
            callbacks: {
              title: function (items) { return items.length ? data.days[items[0].dataIndex] : ""; },
              label: function (item) {
                return item.dataset.type === "bar" ? "Infusion day" : item.dataset.label + ": " + item.formattedValue;
              }
            }
          }
        },
        scales: {
          x: { ticks: { autoSkip: true, maxRotation: 0 } },
          y: { min: 0, max: TOP, ticks: { stepSize: 1 }, title: { display: true, text: "0 none – 10 worst" } }
        }
      }
    });
  }

  function drawAll(root) {
    (root || document).querySelectorAll("canvas[data-journal-chart]").forEach(draw);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { drawAll(document); });
  } else {
    drawAll(document);
  }
})();
