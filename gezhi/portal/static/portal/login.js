/* Phone login: the "重新获取验证码" button counts down the seconds until the server allows
   another code (the server checks anyway; without JavaScript the button simply stays on). */
(function () {
  "use strict";
  var button = document.getElementById("resend");
  if (!button) { return; }
  var left = parseInt(button.dataset.wait || "0", 10);
  if (!(left > 0)) { return; }
  var label = button.textContent;
  var tpl = document.getElementById("login-messages");
  var node = tpl && tpl.content.querySelector('[data-key="wait"]');
  var format = node ? node.textContent : "%(n)s";
  function tick() {
    if (left <= 0) {
      button.disabled = false;
      button.textContent = label;
      return;
    }
    button.disabled = true;
    button.textContent = format.replace("%(n)s", String(left));
    left -= 1;
    window.setTimeout(tick, 1000);
  }
  tick();
})();
