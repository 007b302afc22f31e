/* newsdesk reader: the Follow and Save forms are swapped in place by htmx (hx-post on
 * forms marked data-reader). When that fails (over the change limit, session expired,
 * network), the form is sent the plain way, so the page that comes back says why.
 * form.submit() sends no submit event, so htmx does not catch it a second time.
 */
(function () {
  "use strict";

  function sendPlainly(event) {
    var form = event.target && event.target.closest ? event.target.closest("form[data-reader]") : null;
    if (form) { form.submit(); }
  }

  document.addEventListener("htmx:responseError", sendPlainly);
  document.addEventListener("htmx:sendError", sendPlainly);
})();
