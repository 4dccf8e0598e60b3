// Enhancements only: every page works without this file.
(function () {
  "use strict";
  var root = document.documentElement;
  root.classList.add("js");
  var lang = root.lang === "en" ? "en" : "zh";
  var CHOOSE = { zh: "请选择", en: "Choose" };
  var OPTIONAL = { zh: "（可不选）", en: " (optional)" };
  var NONE_BELOW = { zh: "先选上一级", en: "Choose the level above first" };

  // Province → city → district: fill the next select from the server instead of reloading the page.
  function fill(select, entries, level) {
    select.textContent = "";
    var first = document.createElement("option");
    first.value = "";
    first.textContent = entries.length ? CHOOSE[lang] + (level ? OPTIONAL[lang] : "") : NONE_BELOW[lang];
    select.appendChild(first);
    entries.forEach(function (entry) {
      var option = document.createElement("option");
      option.value = entry[0];
      option.textContent = entry[1];
      select.appendChild(option);
    });
    select.disabled = entries.length === 0;
  }
  document.querySelectorAll("[data-region-cascade]").forEach(function (box) {
    var selects = Array.prototype.slice.call(box.querySelectorAll("select[data-region-level]"));
    selects.forEach(function (select, index) {
      select.addEventListener("change", function () {
        for (var i = index + 1; i < selects.length; i++) fill(selects[i], [], i);
        var next = selects[index + 1];
        if (!next || !select.value) return;
        fetch("/form/regions?lang=" + lang + "&parent=" + encodeURIComponent(select.value))
          .then(function (r) { return r.ok ? r.json() : []; })
          .then(function (entries) { fill(next, entries, index + 1); })
          .catch(function () {});
      });
    });
  });

  // Industry: a searchable list of every GB/T 4754 entry, loaded when the field is first used.
  document.querySelectorAll("[data-industry-input]").forEach(function (input) {
    var loaded = false;
    function load() {
      if (loaded) return;
      loaded = true;
      var list = document.getElementById(input.getAttribute("list"));
      fetch("/form/industries?lang=" + lang)
        .then(function (r) { return r.json(); })
        .then(function (entries) {
          var fragment = document.createDocumentFragment();
          entries.forEach(function (label) {
            var option = document.createElement("option");
            option.value = label;
            fragment.appendChild(option);
          });
          list.appendChild(fragment);
        })
        .catch(function () { loaded = false; });
    }
    input.addEventListener("focus", load);
    input.addEventListener("input", load);
  });

  // Print: open the collapsed passages first, so the printout carries them.
  document.querySelectorAll("[data-print]").forEach(function (button) {
    button.addEventListener("click", function () { window.print(); });
  });
  window.addEventListener("beforeprint", function () {
    document.querySelectorAll("main details").forEach(function (d) { d.open = true; });
  });

  var summary = document.querySelector("[data-error-summary]");
  if (summary) summary.focus();
})();
