/* newsdesk: small enhancements on top of pages that work without JavaScript.
 *
 * Key points and answer quotes link to the article sentence they come from (#s-N); the
 * browser scrolls there and CSS :target marks it. Here every piece of every sentence a
 * link names (data-sentences="3 5") is marked too, and focus moves to the first one so
 * keyboard and screen-reader users land where the sentence is.
 *
 * Ask-the-article is swapped in place by htmx (hx-post on the form); this file only
 * says so when the request fails. No inline script anywhere: the CSP forbids it.
 */
(function () {
  "use strict";

  var MARK = "is-highlighted";

  function sentencePieces(index) {
    return document.querySelectorAll('#article-body [data-s="' + index + '"]');
  }

  function clearMarks() {
    document.querySelectorAll("#article-body ." + MARK).forEach(function (el) {
      el.classList.remove(MARK);
    });
    document.querySelectorAll("a[data-sentences][aria-current]").forEach(function (el) {
      el.removeAttribute("aria-current");
    });
  }

  function mark(indexes) {
    var first = null;
    indexes.forEach(function (index) {
      sentencePieces(index).forEach(function (el) {
        el.classList.add(MARK);
        if (!first) { first = el; }
      });
    });
    return first;
  }

  function indexesOf(link) {
    return (link.getAttribute("data-sentences") || "").split(/\s+/).filter(function (value) {
      return /^\d+$/.test(value);
    });
  }

  document.addEventListener("click", function (event) {
    if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey) {
      return;
    }
    var link = event.target.closest ? event.target.closest("a[data-sentences]") : null;
    if (!link) { return; }
    var indexes = indexesOf(link);
    if (!indexes.length) { return; }
    clearMarks();
    var first = mark(indexes);
    if (!first) { return; }
    link.setAttribute("aria-current", "true");
    // The link's own #s-N navigation still happens (history, :target); focus follows it.
    window.setTimeout(function () {
      if (!first.hasAttribute("tabindex")) { first.setAttribute("tabindex", "-1"); }
      first.focus({ preventScroll: true });
      var calm = window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;
      first.scrollIntoView({ block: "center", behavior: calm ? "auto" : "smooth" });
    }, 0);
  });

  function markFromHash() {
    var match = /^#s-(\d+)$/.exec(window.location.hash);
    if (match && !document.querySelector("#article-body ." + MARK)) {
      mark([match[1]]);
    }
  }

  document.addEventListener("DOMContentLoaded", markFromHash);

  // htmx: a failed request leaves the old answer alone, so say what happened.
  function answerFailed(event) {
    var target = document.getElementById("answer");
    if (!target || !event.target.closest || !event.target.closest("form.ask")) { return; }
    var status = event.detail && event.detail.xhr ? event.detail.xhr.status : 0;
    var message = document.createElement("p");
    message.className = "answer-error";
    message.textContent = status === 403
      ? "Your session has expired. Reload the page and ask again."
      : "The question could not be answered just now. Please try again.";
    target.replaceChildren(message);
  }

  document.addEventListener("htmx:responseError", answerFailed);
  document.addEventListener("htmx:sendError", answerFailed);
})();
