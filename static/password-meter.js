// Progressive enhancement: the strength meter follows what is typed. The level, the rules
// met and the reason a compliant password is still weak come from the server
// (/password-strength), the very estimator that decides, so the page can never promise "OK"
// for a password the server refuses. Nothing shows until something is typed. Without
// JavaScript the form still works and the server names what is wrong after submission.
(function () {
  "use strict";
  var token = document.querySelector('meta[name="csrf-token"]');
  var inputs = document.querySelectorAll("input[data-strength-meter]");
  var rules = document.getElementById("password-rules");
  Array.prototype.forEach.call(inputs, function (input) {
    var box = document.getElementById(input.getAttribute("data-strength-meter"));
    if (!box || !token || !window.fetch) return;
    var meter = box.querySelector(".meter");
    var label = box.querySelector(".meter-label");
    var why = box.querySelector(".meter-why");
    var timer = null;
    var latest = 0;
    function tick(met) {
      if (!rules) return;
      Array.prototype.forEach.call(rules.querySelectorAll("li[data-rule]"), function (li) {
        var done = !!(met && met[li.getAttribute("data-rule")]);
        li.classList.toggle("met", done);
        var state = li.querySelector(".rule-state");
        if (state) state.textContent = done ? " (" + rules.getAttribute("data-met") + ")" : "";
      });
    }
    function clear() {
      latest++;
      meter.hidden = true;
      why.hidden = true;
      tick(null);
    }
    function update() {
      if (!input.value) return clear();
      var ticket = ++latest;
      var body = new URLSearchParams();
      body.set("csrf_token", token.getAttribute("content"));
      body.set("password", input.value);
      fetch("/password-strength", { method: "POST", body: body, credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (data) {
          if (!data || ticket !== latest) return;
          meter.className = "meter " + data.level;
          label.textContent = data.label;
          meter.hidden = false;
          why.textContent = data.reason || "";
          why.hidden = !data.reason;
          tick(data.rules);
        })
        .catch(function () {});
    }
    input.addEventListener("input", function () {
      clearTimeout(timer);
      if (!input.value) return clear();
      timer = setTimeout(update, 120);
    });
  });
})();
