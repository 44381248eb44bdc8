/* The gate page (issue 14): camera scan with jsQR (static/vendor/jsQR.js) or a typed code; online, the server
   judges by the live rules; offline, the page decides from the Ed25519 signature (WebCrypto), the cached deny
   list and the clock, says 离线判定, queues the scan in localStorage and syncs it when back online. */
(function () {
  "use strict";
  var root = document.getElementById("gate");
  if (!root) { return; }
  var csrf = document.querySelector('meta[name="csrf-token"]').getAttribute("content");
  var schoolId = parseInt(root.dataset.schoolId, 10);
  var KIT = "gate-kit-" + schoolId, QUEUE = "gate-queue-" + schoolId;
  var video = document.getElementById("cam"), canvas = document.getElementById("frame");
  var startButton = document.getElementById("start"), form = document.getElementById("typed");
  var result = document.getElementById("result");
  var last = { text: "", at: 0 }, busy = false;
  var WEEKDAYS = ["周一", "周二", "周三", "周四", "周五", "周六", "周日"];

  function load(key, fallback) { try { return JSON.parse(localStorage.getItem(key)) || fallback; } catch (e) { return fallback; } }
  function save(key, value) { localStorage.setItem(key, JSON.stringify(value)); }
  function setNet(online) {
    var net = document.getElementById("net");
    net.textContent = online ? "在线" : "离线（按签名、禁止名单和时间判定）";
    net.className = online ? "" : "offline";
  }
  function showQueued() { document.getElementById("queued").textContent = String(load(QUEUE, []).length); }

  function el(tag, cls, text) { var e = document.createElement(tag); if (cls) { e.className = cls; } if (text !== undefined) { e.textContent = text; } return e; }
  function render(answer, offline) {
    result.className = "gate-result " + (answer.allowed ? "ok" : "bad");
    result.textContent = "";
    var verdict = answer.allowed ? (answer.direction === "leave" ? "允许离校" : "允许进入") : "禁止进入";
    result.appendChild(el("div", "verdict", verdict));
    if (offline) { result.appendChild(el("div", "offline-note", "离线判定：网络恢复后将按实时规则复核")); }
    if (answer.reasons && answer.reasons.length) {
      var ul = el("ul", "reasons");
      answer.reasons.forEach(function (r) { ul.appendChild(el("li", "", r)); });
      result.appendChild(ul);
    }
    var p = answer.pass;
    if (p) {
      var who = el("div", "who");
      if (p.photo_url && !offline) { var img = el("img", "photo"); img.src = p.photo_url; img.alt = "照片"; who.appendChild(img); }
      var box = el("div");
      [["name", p.name], ["", p.id_masked], ["", p.provider], ["", p.project], ["", "今日：" + (p.session || "")]]
        .forEach(function (x) { if (x[1]) { box.appendChild(el("div", x[0], x[1])); } });
      who.appendChild(box);
      result.appendChild(who);
    }
    result.scrollIntoView({ behavior: "smooth", block: "nearest" });
  }

  function post(url, body) {
    return fetch(url, { method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf }, body: JSON.stringify(body) })
      .then(function (r) {
        if (r.status >= 500 || r.status === 0) { throw new Error("server " + r.status); }
        var json = (r.headers.get("Content-Type") || "").indexOf("application/json") === 0;
        if (r.redirected || !json) {  /* the login expired (redirected to the login page) or the page is stale */
          return { allowed: false, stale: true, reasons: ["登录已过期或页面已失效，请刷新页面后重新核验"] };
        }
        return r.json();
      });
  }

  function refreshKit() {
    return fetch(root.dataset.kitUrl, { credentials: "same-origin" })
      .then(function (r) { if (!r.ok) { throw new Error("kit"); } return r.json(); })
      .then(function (kit) { save(KIT, kit); setNet(true); return kit; });
  }

  function b64u(text) {
    var s = text.replace(/-/g, "+").replace(/_/g, "/"); while (s.length % 4) { s += "="; }
    var bin = atob(s), out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) { out[i] = bin.charCodeAt(i); }
    return out;
  }
  function tokenOf(text) {
    var marker = "/passes/v/", i = text.indexOf(marker);
    var t = i >= 0 ? text.slice(i + marker.length).split(/[?#]/)[0] : text.trim();
    return t.indexOf("RP1.") === 0 ? t : null;
  }
  function minutes(hhmm) { var p = hhmm.split(":"); return parseInt(p[0], 10) * 60 + parseInt(p[1], 10); }

  /* The offline rule: signature by a cached key, the deny list, this school, the dates, weekday and window. */
  function judgeOffline(text) {
    var kit = load(KIT, null), token = tokenOf(text);
    if (!kit) { return Promise.resolve({ allowed: false, reasons: ["离线且尚未下载核验数据，请人工核实"] }); }
    if (!token) { return Promise.resolve({ allowed: false, reasons: ["离线时只能扫描二维码核验，通行码须联网"] }); }
    var parts = token.split(".");
    if (parts.length !== 4 || !kit.keys[parts[1]] || !window.crypto || !crypto.subtle) {
      return Promise.resolve({ allowed: false, reasons: ["二维码签名无法核验（未知密钥）"] });
    }
    var message = new TextEncoder().encode(parts.slice(0, 3).join("."));
    return crypto.subtle.importKey("raw", b64u(kit.keys[parts[1]]), { name: "Ed25519" }, false, ["verify"])
      .then(function (key) { return crypto.subtle.verify({ name: "Ed25519" }, key, b64u(parts[3]), message); })
      .then(function (ok) {
        if (!ok) { return { allowed: false, reasons: ["二维码签名无效（不是本系统签发或已被篡改）"] }; }
        var p = JSON.parse(new TextDecoder().decode(b64u(parts[2]))), reasons = [];
        var now = new Date(), local = new Date(now.getTime() + (now.getTimezoneOffset() + 480) * 60000);
        var day = local.getFullYear() + "-" + String(local.getMonth() + 1).padStart(2, "0") + "-" + String(local.getDate()).padStart(2, "0");
        var weekday = (local.getDay() + 6) % 7, at = local.getHours() * 60 + local.getMinutes();
        if (kit.deny.indexOf(p.p) >= 0) { reasons.push("通行证已撤销或人员已不符合准入条件（禁止名单）"); }
        if (p.s !== schoolId) { reasons.push("不是本校的通行证"); }
        if (day < p.f || day > p.u) { reasons.push("不在通行证有效期内（" + p.f + " 至 " + p.u + "）"); }
        if (p.w.indexOf(weekday) < 0) { reasons.push("今天（" + WEEKDAYS[weekday] + "）不是服务日"); }
        var slot = /(\d{1,2}:\d{2})-(\d{1,2}:\d{2})/.exec(p.t || "");
        if (!slot || at < minutes(slot[1]) - kit.window_minutes || at > minutes(slot[2]) + kit.window_minutes) {
          reasons.push("不在入校时段内（" + p.t + "，前后 " + kit.window_minutes + " 分钟）");
        }
        return { allowed: reasons.length === 0, reasons: reasons, direction: "entry",
                 pass: { name: "通行证 " + p.c.slice(0, 4) + "-" + p.c.slice(4), session: p.t } };
      })
      .catch(function () { return { allowed: false, reasons: ["本机浏览器不支持离线签名核验，请人工核实"] }; });
  }

  function queue(text, answer) {
    var q = load(QUEUE, []);
    q.push({ client_id: "c" + Date.now().toString(36) + Math.random().toString(36).slice(2, 10), text: text,
             scanned_at: new Date().toISOString(), offline_result: answer.allowed ? "allowed" : "denied" });
    save(QUEUE, q); showQueued();
  }

  function sync() {
    var q = load(QUEUE, []);
    if (!q.length) { return Promise.resolve(); }
    return post(root.dataset.syncUrl, { scans: q.slice(0, 500) }).then(function (body) {
      if (body.stale) { return; }
      var done = {}; (body.results || []).forEach(function (r) { done[r.client_id] = true; });
      save(QUEUE, load(QUEUE, []).filter(function (x) { return !done[x.client_id]; })); showQueued();
    }).catch(function () { setNet(false); });
  }

  function check(text) {
    if (busy || !text) { return; }
    busy = true;
    post(root.dataset.scanUrl, { text: text })
      .then(function (answer) { setNet(true); render(answer, false); sync(); })
      .catch(function () {
        setNet(false);
        return judgeOffline(text).then(function (answer) { render(answer, true); queue(text, answer); });
      })
      .then(function () { busy = false; }, function () { busy = false; });
  }

  function tick() {
    if (video.readyState === video.HAVE_ENOUGH_DATA) {
      canvas.width = video.videoWidth; canvas.height = video.videoHeight;
      var ctx = canvas.getContext("2d", { willReadFrequently: true });
      ctx.drawImage(video, 0, 0, canvas.width, canvas.height);
      var image = ctx.getImageData(0, 0, canvas.width, canvas.height);
      var code = window.jsQR(image.data, image.width, image.height, { inversionAttempts: "dontInvert" });
      var now = Date.now();
      if (code && code.data && (code.data !== last.text || now - last.at > 5000)) {
        last = { text: code.data, at: now };
        check(code.data);
      }
    }
    window.requestAnimationFrame(tick);
  }

  startButton.addEventListener("click", function () {
    navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false })
      .then(function (stream) {
        video.srcObject = stream; video.hidden = false; startButton.hidden = true;
        return video.play();
      })
      .then(function () { window.requestAnimationFrame(tick); })
      .catch(function () { startButton.textContent = "无法打开摄像头，请输入通行码"; });
  });
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    check(document.getElementById("f-text").value);
  });
  window.addEventListener("online", function () { setNet(true); refreshKit().catch(function () {}); sync(); });
  window.addEventListener("offline", function () { setNet(false); });
  showQueued();
  refreshKit().then(sync).catch(function () { setNet(false); });
  window.setInterval(function () { refreshKit().then(sync).catch(function () { setNet(false); }); }, 120000);
}());
