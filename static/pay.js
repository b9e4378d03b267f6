// Progressive enhancement of the hosted payment page. Without it everything still works:
// the test card numbers are selectable text, the server checks every field, and a second
// submission of the same payment shows the receipt or "payment in progress".
//  - TEST mode: each test card number becomes a button that fills the form (the number,
//    an expiry in the future given by the page, CVV 123),
//  - the card number is grouped by four as it is typed,
//  - a form is sent once (double clicks do nothing more),
//  - the receipt's print button.
(function () {
  "use strict";

  function each(selector, fn) {
    Array.prototype.forEach.call(document.querySelectorAll(selector), fn);
  }

  function grouped(digits) {
    return digits.replace(/(\d{4})(?=\d)/g, "$1 ");
  }

  // ---- Test cards
  var list = document.querySelector(".test-cards");
  var form = document.getElementById("pay-form");
  if (list && form) {
    each(".test-cards .card-no[data-card]", function (span) {
      var number = span.getAttribute("data-card");
      var button = document.createElement("button");
      button.type = "button";
      button.className = "card-no";
      button.setAttribute("data-card", number);
      button.textContent = span.textContent;
      var label = list.getAttribute("data-use");
      if (label) button.setAttribute("aria-label", label + " " + span.textContent);
      button.addEventListener("click", function () {
        form.elements["card_number"].value = grouped(number);
        form.elements["expiry_month"].value = list.getAttribute("data-month") || "12";
        form.elements["expiry_year"].value = list.getAttribute("data-year") || "";
        form.elements["cvv"].value = "123";
        each("#pay-form [aria-invalid]", function (input) { input.removeAttribute("aria-invalid"); });
        var submit = form.querySelector("button[type=submit]");
        if (submit) {
          submit.focus();
          if (submit.scrollIntoView) submit.scrollIntoView({ block: "center" });
        }
      });
      span.parentNode.replaceChild(button, span);
    });
  }

  // ---- The card number in groups of four, as it is typed (the server ignores spaces)
  var number = document.getElementById("card_number");
  if (number) {
    number.addEventListener("input", function () {
      var digits = number.value.replace(/\D/g, "").slice(0, 19);
      var next = grouped(digits);
      if (next !== number.value) number.value = next;
    });
  }

  // ---- Send a form once. The clicked button keeps its name and value (it is not disabled:
  // a disabled submitter would not be sent).
  each("form[data-once]", function (f) {
    var sent = false;
    var button = f.querySelector("button[data-busy]");
    var label = button ? button.textContent : "";
    f.addEventListener("submit", function (event) {
      if (sent) {
        event.preventDefault();
        return;
      }
      sent = true;
      f.setAttribute("aria-busy", "true");
      if (button) button.textContent = button.getAttribute("data-busy");
    });
    // Back to this page from the browser's cache: it may be sent again.
    window.addEventListener("pageshow", function (event) {
      if (!event.persisted) return;
      sent = false;
      f.removeAttribute("aria-busy");
      if (button) button.textContent = label;
    });
  });

  // ---- Print the receipt
  each("button[data-print]", function (button) {
    button.hidden = false;
    button.addEventListener("click", function () { window.print(); });
  });
})();
