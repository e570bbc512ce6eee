/* Search as you type: an ARIA 1.2 combobox over /search?format=json (debounced; arrow keys, Enter, Escape).
   Without JavaScript the same form submits to /search and lands on a results page. */
(function () {
  "use strict";

  var DELAY_MS = 150;

  function setup(form) {
    var input = form.querySelector('[role="combobox"]');
    var list = document.getElementById(input.getAttribute("aria-controls"));
    var status = form.querySelector("[data-status]");
    var endpoint = input.getAttribute("data-endpoint");
    var timer = null;
    var controller = null;
    var results = [];
    var active = -1;

    function close() {
      list.hidden = true;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
      active = -1;
    }

    function open() {
      if (!results.length) return close();
      list.hidden = false;
      input.setAttribute("aria-expanded", "true");
    }

    function highlight(index) {
      var options = list.querySelectorAll('[role="option"]');
      options.forEach(function (option, i) {
        option.setAttribute("aria-selected", i === index ? "true" : "false");
      });
      active = index;
      if (index >= 0) {
        input.setAttribute("aria-activedescendant", options[index].id);
        options[index].scrollIntoView({ block: "nearest" });
      } else {
        input.removeAttribute("aria-activedescendant");
      }
    }

    function go(index) {
      if (results[index]) window.location.assign(results[index].url);
    }

    function render(found) {
      // A refresh that lands after the user picked an option with the keyboard keeps that pick when it is still
      // listed: Enter must open what is highlighted, not fall through to the search page.
      var picked = active >= 0 && results[active] ? results[active].url : null;
      results = found;
      list.textContent = "";
      found.forEach(function (model, i) {
        var option = document.createElement("li");
        option.id = list.id + "-" + i;
        option.setAttribute("role", "option");
        option.setAttribute("aria-selected", "false");
        var name = document.createElement("span");
        name.className = "name";
        name.textContent = model.name;
        var meta = document.createElement("span");
        meta.className = "meta";
        meta.textContent = model.slug + (model.creator ? " · " + model.creator : "");
        option.appendChild(name);
        option.appendChild(meta);
        // mousedown would blur the input (and close the list) before the click lands.
        option.addEventListener("mousedown", function (event) { event.preventDefault(); });
        option.addEventListener("click", function () { go(i); });
        list.appendChild(option);
      });
      active = -1;
      var kept = picked ? found.findIndex(function (model) { return model.url === picked; }) : -1;
      if (kept >= 0) highlight(kept);
      status.textContent = found.length
        ? found.length + (found.length === 1 ? " model" : " models") + " found; use the arrow keys to choose."
        : "No model matches.";
      open();
    }

    function lookup(query) {
      if (controller) controller.abort();
      controller = new AbortController();
      var url = endpoint + "?format=json&q=" + encodeURIComponent(query);
      fetch(url, { signal: controller.signal, headers: { Accept: "application/json" } })
        .then(function (response) {
          if (!response.ok) throw new Error("search failed: " + response.status);
          return response.json();
        })
        .then(function (data) {
          if (input.value.trim() === query) render(data.results);
        })
        .catch(function (error) {
          if (error.name !== "AbortError") close();
        });
    }

    input.addEventListener("input", function () {
      var query = input.value.trim();
      clearTimeout(timer);
      if (!query) {
        results = [];
        list.textContent = "";
        status.textContent = "";
        return close();
      }
      timer = setTimeout(function () { lookup(query); }, DELAY_MS);
    });

    input.addEventListener("keydown", function (event) {
      var count = results.length;
      if (event.key === "ArrowDown" && count) {
        event.preventDefault();
        if (list.hidden) open();
        highlight(active + 1 >= count ? 0 : active + 1);
      } else if (event.key === "ArrowUp" && count) {
        event.preventDefault();
        if (list.hidden) open();
        highlight(active <= 0 ? count - 1 : active - 1);
      } else if (event.key === "Enter" && !list.hidden && active >= 0) {
        event.preventDefault();
        go(active);
      } else if (event.key === "Escape") {
        if (!list.hidden) {
          event.preventDefault();
          close();
        } else {
          input.value = "";
        }
      }
    });

    input.addEventListener("focus", function () { if (results.length) open(); });
    input.addEventListener("blur", close);
  }

  /* Linked pickers: choosing another provider clears the offer picked for the previous one. No automatic
     submit: a change of page on a keyboard arrow press would be a surprise (WCAG 3.2.2). */
  function linked(form) {
    form.addEventListener("change", function (event) {
      var reset = event.target.getAttribute("data-resets");
      if (reset && form.elements[reset]) {
        form.elements[reset].value = "";
        form.elements[reset].disabled = true;
      }
    });
  }

  document.querySelectorAll("form[data-search]").forEach(setup);
  document.querySelectorAll("form[data-linked]").forEach(linked);
})();
