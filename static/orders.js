// Progressive enhancement of the payment order screens. Without it every page still works:
// the link fields are selectable, the server computes the SMS cost and checks the seed's
// incompatibilities, and the "Load template" button loads a template.
//  - copy buttons (hidden until this script shows them),
//  - the SMS cost as the merchant types: the same GSM-7 / UCS-2 rules as src/domain/sms.rs
//    (`cost`), on the text the server will send (src/domain/template.rs, `with_url` and the
//    `%variables%`),
//  - the seed's incompatibilities as the choices change (collection form vs saved card,
//    saved card forcing the 3-D Secure challenge),
//  - choosing another e-mail template loads it.
(function () {
  "use strict";

  function each(selector, fn) {
    Array.prototype.forEach.call(document.querySelectorAll(selector), fn);
  }

  // ---- Copy buttons
  each("button[data-copy]", function (button) {
    var field = document.getElementById(button.getAttribute("data-copy"));
    if (!field) return;
    var label = button.textContent;
    var timer = null;
    function copied() {
      button.textContent = button.getAttribute("data-done") || label;
      clearTimeout(timer);
      timer = setTimeout(function () { button.textContent = label; }, 2000);
    }
    function fallback() {
      field.focus();
      field.select();
      try {
        if (document.execCommand("copy")) copied();
      } catch (e) { /* the field stays selected: Ctrl+C works */ }
    }
    button.hidden = false;
    button.addEventListener("click", function () {
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(field.value).then(copied, fallback);
      } else {
        fallback();
      }
    });
  });

  // ---- SMS cost (port of domain::sms::cost)
  var GSM7_BASIC = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡" +
    "ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
  var GSM7_EXTENSION = "^{}\\[~]|€\f";

  function smsCost(text) {
    var chars = 0;
    var septets = 0;
    var gsm = true;
    for (var i = 0; i < text.length; i++) {
      var code = text.charCodeAt(i);
      var ch = text.charAt(i);
      // A surrogate pair is one character outside GSM-7.
      if (code >= 0xd800 && code <= 0xdbff && i + 1 < text.length) {
        ch = text.substr(i, 2);
        i++;
      }
      chars++;
      if (ch.length === 1 && GSM7_BASIC.indexOf(ch) >= 0) {
        septets += 1;
      } else if (ch.length === 1 && GSM7_EXTENSION.indexOf(ch) >= 0) {
        septets += 2;
      } else {
        gsm = false;
      }
    }
    var units = gsm ? septets : text.length; // UTF-16 units for UCS-2
    var single = gsm ? 160 : 70;
    var part = gsm ? 153 : 67;
    var segments = units === 0 ? 0 : units <= single ? 1 : Math.ceil(units / part);
    return { chars: chars, units: units, segments: segments, encoding: gsm ? "GSM-7" : "UCS-2" };
  }

  // order::format_date: 29/12/2026, 2026-12-29 in English, 29.12.2026 in German.
  function isoToLocal(iso, lang) {
    var m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(iso || "");
    if (!m) return iso || "";
    if (lang === "en") return iso;
    return m[3] + (lang === "de" ? "." : "/") + m[2] + (lang === "de" ? "." : "/") + m[1];
  }

  // Money::display as an SMS carries it (sms::plain_spaces): the typed amount with the
  // currency's decimals, grouped by thousands as the language writes it ("0,00 €" when invalid).
  function amountText(raw, exponent, lang, currency) {
    var s = (raw || "").replace(/[\s\u00a0\u202f]/g, "");
    var m = /^(\d+)(?:[.,](\d+))?$/.exec(s);
    var units = "0";
    var decimals = "";
    if (m && (!m[2] || m[2].length <= exponent)) {
      units = m[1].replace(/^0+(?=\d)/, "");
      decimals = m[2] || "";
    }
    while (decimals.length < exponent) decimals += "0";
    var group = lang === "fr" ? " " : lang === "en" ? "," : ".";
    units = units.replace(/\B(?=(\d{3})+(?!\d))/g, group);
    var number = exponent === 0 ? units : units + (lang === "en" ? "." : ",") + decimals;
    var symbol = { EUR: "\u20ac", USD: "$", GBP: "\u00a3", JPY: "\u00a5" }[currency] || currency;
    if (lang === "en") return symbol.length === 1 ? symbol + number : symbol + " " + number;
    return number + " " + symbol;
  }

  var meter = document.getElementById("sms-meter");
  var smsText = document.querySelector('form[data-channel="sms"] textarea[name="message"]');
  if (meter && smsText) {
    var form = smsText.form;
    var field = function (name) { return form.querySelector('[name="' + name + '"]'); };
    var segmentsOut = document.getElementById("sms-segments");
    var charsOut = document.getElementById("sms-chars");
    var encodingOut = document.getElementById("sms-encoding");
    var creditsOut = document.getElementById("sms-credits");
    var shortLine = document.getElementById("sms-short");
    var update = function () {
      var language = field("language") ? field("language").value : "fr";
      // Browsers send a textarea's line breaks as CRLF.
      var typed = smsText.value.replace(/\r?\n/g, "\r\n").trim();
      var text = typed === ""
        ? meter.getAttribute("data-default-" + language) || meter.getAttribute("data-default-fr")
        : (typed.indexOf("%url%") >= 0 ? typed : typed.replace(/\s+$/, "") + " %url%");
      var currencySelect = field("currency");
      var currency = currencySelect ? currencySelect.value : "EUR";
      var option = currencySelect ? currencySelect.options[currencySelect.selectedIndex] : null;
      var exponent = option ? parseInt(option.getAttribute("data-exponent") || "2", 10) : 2;
      var vars = [
        ["%reference%", (field("reference") ? field("reference").value : "").trim()],
        ["%amount%", amountText(field("amount") ? field("amount").value : "", exponent, language, currency)],
        ["%start_date%", isoToLocal(meter.getAttribute("data-start-date"), language)],
        ["%end_date%", isoToLocal(field("expires_on") ? field("expires_on").value : "", language)],
        ["%shop_name%", meter.getAttribute("data-shop-name") || ""],
        ["%shop_contact%", meter.getAttribute("data-shop-contact") || ""],
        ["%shop_url%", meter.getAttribute("data-shop-url") || ""],
        ["%url%", meter.getAttribute("data-url") || ""]
      ];
      vars.forEach(function (v) { text = text.split(v[0]).join(v[1]); });
      var cost = smsCost(text);
      segmentsOut.textContent = String(cost.segments);
      charsOut.textContent = String(cost.chars);
      encodingOut.textContent = cost.encoding;
      if (creditsOut && shortLine) {
        shortLine.hidden = cost.segments <= parseInt(creditsOut.textContent, 10);
      }
    };
    ["input", "change"].forEach(function (type) { form.addEventListener(type, update); });
    update();
  }

  // ---- The amount's currency next to the field
  var currency = document.getElementById("currency");
  var unit = document.getElementById("amount-unit");
  if (currency && unit) {
    currency.addEventListener("change", function () { unit.textContent = currency.value; });
  }

  // ---- Incompatibilities (the server enforces them; this only keeps the choices coherent)
  var collection = document.getElementById("use_collection_form");
  var threeDs = document.getElementById("three_ds");
  if (collection && !collection.disabled) {
    collection.addEventListener("change", function () {
      if (!collection.checked) return;
      var none = document.getElementById("alias_mode-NONE");
      if (none) none.checked = true;
    });
    each('input[name="alias_mode"]', function (radio) {
      radio.addEventListener("change", function () {
        if (!radio.checked || radio.value === "NONE") return;
        collection.checked = false;
        if (threeDs && !threeDs.disabled) threeDs.value = "CHALLENGE";
      });
    });
  }

  // ---- Choosing a template loads it
  var template = document.getElementById("template_id");
  var load = document.getElementById("load-template");
  if (template && load) {
    template.addEventListener("change", function () { load.click(); });
  }
})();
