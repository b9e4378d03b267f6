// Progressive enhancement of the hosted payment page. Without it everything still works:
// the test card numbers are selectable text, the server checks every field, the language
// links load the page again, and a second submission of the same payment shows the
// receipt or "payment in progress".
//  - TEST mode: each test card number becomes a button that fills the form (the number,
//    an expiry in the future given by the page, CVV 123),
//  - the card number is grouped by four as it is typed, and the brand it starts with is
//    highlighted among the accepted ones,
//  - the number (Luhn), the expiry and the security code are checked before the form
//    leaves the page, so that a typo is caught without a round trip,
//  - a language link swaps the page for the same one in that language and keeps what the
//    buyer typed (nothing typed is sent: the other page is fetched with a plain GET),
//  - a form is sent once (double clicks do nothing more),
//  - the receipt's print button.
(function () {
  "use strict";

  function each(root, selector, fn) {
    Array.prototype.forEach.call(root.querySelectorAll(selector), fn);
  }

  function grouped(digits) {
    return digits.replace(/(\d{4})(?=\d)/g, "$1 ");
  }

  function digitsOf(value) {
    return value.replace(/[\s-]/g, "");
  }

  // ---- Checks, the same as the server's (it checks again)
  function luhn(digits) {
    var sum = 0;
    for (var i = 0; i < digits.length; i++) {
      var d = digits.charCodeAt(digits.length - 1 - i) - 48;
      if (i % 2 === 1) { d *= 2; if (d > 9) d -= 9; }
      sum += d;
    }
    return sum % 10 === 0;
  }

  function brandOf(digits) {
    if (/^3[47]/.test(digits)) return "amex";
    if (/^(5[1-5]|2[2-7])/.test(digits)) return "mastercard";
    if (/^4/.test(digits)) return "visa";
    return "";
  }

  function cardError(value) {
    var digits = digitsOf(value);
    if (!/^\d{12,19}$/.test(digits) || !luhn(digits)) return "number";
    return "";
  }

  function expiryError(month, year, today) {
    if (!/^\d{1,2}$/.test(month) || !/^(\d{2}|\d{4})$/.test(year)) return "expiry";
    var m = parseInt(month, 10);
    var y = parseInt(year, 10);
    if (year.length === 2) y += 2000;
    if (m < 1 || m > 12) return "expiry";
    if (y * 12 + m < today.getFullYear() * 12 + today.getMonth() + 1) return "expiry_past";
    return "";
  }

  function cvvError(value, digits) {
    var length = brandOf(digits) === "amex" ? 4 : 3;
    return new RegExp("^\\d{" + length + "}$").test(value) ? "" : "cvv";
  }

  // Marks `input` as refused with `message`, or clears it.
  function mark(form, input, message) {
    var id = input.id + "-client-error";
    var old = document.getElementById(id);
    if (old) old.parentNode.removeChild(old);
    var holder = input.closest("fieldset") || input.closest(".field");
    if (!message) {
      input.removeAttribute("aria-invalid");
      return;
    }
    var p = document.createElement("p");
    p.className = "error";
    p.id = id;
    p.textContent = message;
    holder.appendChild(p);
    input.setAttribute("aria-invalid", "true");
    var described = (input.getAttribute("aria-describedby") || "").split(" ").filter(function (x) { return x && x !== id; });
    described.push(id);
    input.setAttribute("aria-describedby", described.join(" "));
  }

  // The saved card chosen (its token), or "" for a new card.
  function savedChoice(form) {
    var checked = form.querySelector("input[name=saved_card]:checked");
    return checked ? checked.value : "";
  }

  function checkBeforeSending(form, event) {
    var f = form.elements;
    if (!f["card_number"]) return;
    var digits = digitsOf(f["card_number"].value);
    var say = function (key) { return key ? form.getAttribute("data-msg-" + key) : ""; };
    var saved = savedChoice(form) !== "";
    var cvv = f["cvv"].value.trim();
    var refusals = saved ? [
      [f["cvv"], say(/^\d{3,4}$/.test(cvv) ? "" : "cvv")],
    ] : [
      [f["card_number"], say(cardError(f["card_number"].value))],
      [f["expiry_month"], say(expiryError(f["expiry_month"].value.trim(), f["expiry_year"].value.trim(), new Date()))],
      [f["cvv"], say(cvvError(cvv, digits))],
    ];
    var first = null;
    refusals.forEach(function (r) {
      mark(form, r[0], r[1]);
      if (r[1] && !first) first = r[0];
    });
    if (first) {
      event.preventDefault();
      event.stopImmediatePropagation();
      first.focus();
    }
  }

  function init(root) {
    var form = root.querySelector("#pay-form");

    // ---- Instalments: the button says what is charged now
    var payButton = form && form.querySelector("button[data-label-instalments]");
    if (payButton) {
      form.addEventListener("change", function (e) {
        if (e.target.name !== "instalments") return;
        var n = form.querySelector("input[name=instalments]:checked");
        var many = n && n.value !== "1";
        payButton.textContent = payButton.getAttribute(many ? "data-label-instalments" : "data-label-once");
      });
    }

    // ---- A saved card needs only its security code: the new card's fields step aside
    var fresh = form && form.querySelector("#new-card");
    if (fresh && form.querySelector("input[name=saved_card]")) {
      var sync = function () { fresh.hidden = savedChoice(form) !== ""; };
      form.addEventListener("change", function (e) { if (e.target.name === "saved_card") sync(); });
      sync();
    }

    // ---- Test cards
    var list = root.querySelector(".test-cards");
    if (list && form) {
      each(list, ".card-no[data-card]", function (span) {
        var number = span.getAttribute("data-card");
        var button = document.createElement("button");
        button.type = "button";
        button.className = "card-no";
        button.setAttribute("data-card", number);
        button.textContent = span.textContent;
        var label = list.getAttribute("data-use");
        if (label) button.setAttribute("aria-label", label + " " + span.textContent);
        button.addEventListener("click", function () {
          var fresh = form.querySelector("#saved-new");
          if (fresh) { fresh.checked = true; fresh.dispatchEvent(new Event("change", { bubbles: true })); }
          form.elements["card_number"].value = grouped(number);
          form.elements["expiry_month"].value = list.getAttribute("data-month") || "12";
          form.elements["expiry_year"].value = list.getAttribute("data-year") || "";
          form.elements["cvv"].value = "123";
          form.elements["card_number"].dispatchEvent(new Event("input"));
          each(form, "[aria-invalid]", function (input) { mark(form, input, ""); });
          var submit = form.querySelector("button[type=submit]");
          if (submit) {
            submit.focus();
            if (submit.scrollIntoView) submit.scrollIntoView({ block: "center" });
          }
        });
        span.parentNode.replaceChild(button, span);
      });
      var hint = list.querySelector("[data-hint-js]");
      if (hint) hint.textContent = hint.getAttribute("data-hint-js");
    }

    // ---- The card number in groups of four as it is typed (the server ignores spaces),
    // and its brand lit among the accepted ones
    var number = root.querySelector("#card_number");
    var brands = root.querySelector(".brands");
    if (number) {
      number.addEventListener("input", function () {
        var digits = number.value.replace(/\D/g, "").slice(0, 19);
        var next = grouped(digits);
        if (next !== number.value) number.value = next;
        if (brands) {
          var brand = brandOf(digits);
          each(brands, "[data-brand]", function (b) {
            b.classList.toggle("on", brand !== "" && b.getAttribute("data-brand") === brand);
            // CB rides on Visa and Mastercard cards: it is never dimmed.
            var other = b.getAttribute("data-brand") !== brand && b.getAttribute("data-brand") !== "cb";
            b.classList.toggle("off", brand !== "" && other);
          });
        }
      });
    }

    if (form) {
      form.addEventListener("submit", function (event) { checkBeforeSending(form, event); });
    }

    // ---- Send a form once. The clicked button keeps its name and value (it is not
    // disabled: a disabled submitter would not be sent).
    each(root, "form[data-once]", function (f) {
      var sent = false;
      var button = f.querySelector("button[data-busy]");
      var label = button ? button.textContent : "";
      f.addEventListener("submit", function (event) {
        if (event.defaultPrevented) return;
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
    each(root, "button[data-print]", function (button) {
      button.hidden = false;
      button.addEventListener("click", function () { window.print(); });
    });

    // ---- Another language, keeping what was typed
    each(root, "a[data-lang-switch]", function (a) {
      a.addEventListener("click", function (event) {
        if (!window.fetch || !window.DOMParser || !root.querySelector("#pay-form")) return;
        event.preventDefault();
        switchTo(a.href);
      });
    });
  }

  function switchTo(href) {
    var kept = {};
    each(document, "#pay-form input", function (input) {
      if (input.type !== "hidden") kept[input.name] = input.value;
    });
    fetch(href, { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then(function (res) { return res.ok ? res.text() : Promise.reject(res.status); })
      .then(function (text) {
        var next = new DOMParser().parseFromString(text, "text/html");
        document.documentElement.lang = next.documentElement.lang;
        document.title = next.title;
        document.body.innerHTML = next.body.innerHTML;
        each(document, "#pay-form input", function (input) {
          if (input.type !== "hidden" && kept[input.name]) input.value = kept[input.name];
        });
        history.replaceState(null, "", href);
        init(document);
        var current = document.querySelector(".pay-langs [aria-current]");
        if (current) current.focus();
      })
      .catch(function () { window.location.href = href; });
  }

  init(document);
})();
