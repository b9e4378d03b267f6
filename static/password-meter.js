// Progressive enhancement: the strength meter follows what is typed. The level comes from
// the server (/password-strength), the very estimator that decides, so the page can never
// promise "OK" for a password the server refuses. Without JavaScript the form still works
// and the server shows the level after submission.
(function () {
  "use strict";
  var token = document.querySelector('meta[name="csrf-token"]');
  var inputs = document.querySelectorAll("input[data-strength-meter]");
  Array.prototype.forEach.call(inputs, function (input) {
    var meter = document.getElementById(input.getAttribute("data-strength-meter"));
    if (!meter || !token || !window.fetch) return;
    var label = meter.querySelector(".meter-label");
    var timer = null;
    var latest = 0;
    function update() {
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
        })
        .catch(function () {});
    }
    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(update, 120);
    });
  });
})();
