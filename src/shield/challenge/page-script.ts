/**
 * The challenge page's inline script and style, constant text so that CHALLENGE_CSP can allow
 * them by hash (page.ts). Per-request values never enter the script: it reads them from the
 * form's data attributes. ASCII only (the hash is over the UTF-8 bytes). Plain ES2017.
 *
 * `pow(scope, isWorker)` is written once and runs in two places: stringified into a Blob for
 * the Web Workers, or called on the main thread (in chunks, yielding to the event loop) when
 * workers cannot start. It hashes with crypto.subtle.digest, in batches of parallel digests,
 * and falls back to a small pure-JS SHA-256 where crypto.subtle is missing (plain-HTTP pages
 * are not a secure context, so they have no crypto.subtle). With N workers, worker k tries
 * counters k, k+N, k+2N, …
 */

export const PAGE_STYLE = `
html{font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1f2328;background:#f6f8fa}
main{max-width:34rem;margin:12vh auto;padding:2rem;background:#fff;border:1px solid #d0d7de;border-radius:8px}
h1{font-size:1.3rem;margin:0 0 .5rem}
progress{width:100%;height:.75rem}
a{color:#0969da}
@media (prefers-color-scheme:dark){html{color:#e6edf3;background:#0d1117}main{background:#161b22;border-color:#30363d}a{color:#4493f8}}
`;

export const PAGE_SCRIPT = `
(function () {
  'use strict';
  function pow(scope, isWorker) {
    var K = [
      0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
      0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
      0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
      0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
      0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
      0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
      0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
      0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2
    ];
    var W = new Int32Array(64);
    // SHA-256 of an ASCII string (FIPS 180-4), as eight 32-bit words.
    function sha256(s) {
      var n = s.length, words = (((n + 8) >> 6) + 1) << 4, m = new Int32Array(words), i, j;
      for (i = 0; i < n; i++) m[i >> 2] |= (s.charCodeAt(i) & 255) << (24 - (i & 3) * 8);
      m[n >> 2] |= 0x80 << (24 - (n & 3) * 8);
      m[words - 1] = n * 8;
      var h = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];
      for (j = 0; j < words; j += 16) {
        var a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], k = h[7], x, y, t1, t2;
        for (i = 0; i < 64; i++) {
          if (i < 16) W[i] = m[j + i];
          else {
            x = W[i - 15]; y = W[i - 2];
            W[i] = ((((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3)) + W[i - 16] +
              (((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10)) + W[i - 7]) | 0;
          }
          t1 = (k + (((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7))) +
            ((e & f) ^ (~e & g)) + K[i] + W[i]) | 0;
          t2 = ((((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10))) +
            ((a & b) ^ (a & c) ^ (b & c))) | 0;
          k = g; g = f; f = e; e = (d + t1) | 0; d = c; c = b; b = a; a = (t1 + t2) | 0;
        }
        h[0] = (h[0] + a) | 0; h[1] = (h[1] + b) | 0; h[2] = (h[2] + c) | 0; h[3] = (h[3] + d) | 0;
        h[4] = (h[4] + e) | 0; h[5] = (h[5] + f) | 0; h[6] = (h[6] + g) | 0; h[7] = (h[7] + k) | 0;
      }
      return h;
    }
    function wordZeros(h) {
      for (var i = 0, z = 0; i < h.length; i++) { if (h[i] !== 0) return z + Math.clz32(h[i]); z += 32; }
      return z;
    }
    function byteZeros(u) {
      for (var i = 0, z = 0; i < u.length; i++) { if (u[i] !== 0) return z + Math.clz32(u[i]) - 24; z += 8; }
      return z;
    }
    var subtle = scope.crypto && scope.crypto.subtle && typeof scope.TextEncoder === 'function' ? scope.crypto.subtle : null;
    var encoder = subtle ? new scope.TextEncoder() : null;
    var BATCH = 256;
    // The first counter in [from, from + count*step) (stepping by step) that meets difficulty, or -1.
    function batch(prefix, difficulty, from, step, count) {
      var i;
      if (subtle) {
        var digests = [];
        for (i = 0; i < count; i++) digests.push(subtle.digest('SHA-256', encoder.encode(prefix + (from + i * step))));
        return Promise.all(digests).then(function (rs) {
          for (var r = 0; r < rs.length; r++) if (byteZeros(new Uint8Array(rs[r])) >= difficulty) return from + r * step;
          return -1;
        }, function () { subtle = null; return batch(prefix, difficulty, from, step, count); });
      }
      for (i = 0; i < count; i++) if (wordZeros(sha256(prefix + (from + i * step))) >= difficulty) return Promise.resolve(from + i * step);
      return Promise.resolve(-1);
    }
    function search(nonce, difficulty, start, step, onProgress, pause) {
      var prefix = nonce + ':';
      return new Promise(function (resolve, reject) {
        function next(n) {
          batch(prefix, difficulty, n, step, BATCH).then(function (hit) {
            if (hit >= 0) return resolve(String(hit));
            onProgress(BATCH);
            if (pause) scope.setTimeout(function () { next(n + BATCH * step); }, 0);
            else next(n + BATCH * step);
          }).catch(reject);
        }
        next(start);
      });
    }
    if (isWorker) {
      scope.onmessage = function (ev) {
        var d = ev.data;
        search(d.nonce, d.difficulty, d.start, d.step, function (n) { scope.postMessage({ tried: n }); }, false).then(
          function (answer) { scope.postMessage({ answer: answer }); },
          function (err) { scope.postMessage({ error: String(err) }); });
      };
    }
    return search;
  }

  var doc = self.document;
  var form = doc.getElementById('oc-form');
  var bar = doc.getElementById('oc-bar');
  var status = doc.getElementById('oc-status');
  var slow = doc.getElementById('oc-slow');
  var nonce = form.getAttribute('data-nonce');
  var difficulty = Number(form.getAttribute('data-difficulty'));
  var waitSeconds = Number(form.getAttribute('data-wait'));
  var expected = Math.pow(2, difficulty);
  var tried = 0, done = false, onMain = false, workers = [];

  status.hidden = false;
  bar.hidden = false;
  // Proof of work has no fixed length: show the chance that a solution would have been found by now.
  function progress(n) {
    tried += n;
    if (!done) bar.value = Math.min(0.99, 1 - Math.exp(-tried / expected));
  }
  function stopWorkers() {
    for (var i = 0; i < workers.length; i++) workers[i].terminate();
    workers = [];
  }
  function finish(answer) {
    if (done) return;
    done = true;
    stopWorkers();
    bar.value = 1;
    status.textContent = 'Done. Continuing\\u2026';
    form.elements.answer.value = answer;
    form.submit();
  }
  function fail() {
    if (done) return;
    done = true;
    stopWorkers();
    status.textContent = 'Your browser could not run this check. Use the slower way below.';
    slow.hidden = false;
  }
  function runOnMain() {
    if (onMain || done) return;
    onMain = true;
    stopWorkers();
    pow(self, false)(nonce, difficulty, 0, 1, progress, true).then(finish, fail);
  }
  function start() {
    var count = Math.max(1, Math.min(4, (self.navigator && self.navigator.hardwareConcurrency) | 0 || 1));
    try {
      if (typeof self.Worker !== 'function' || typeof self.Blob !== 'function' || !self.URL || !self.URL.createObjectURL) return runOnMain();
      var url = self.URL.createObjectURL(new self.Blob(['(' + pow.toString() + ')(self, true);'], { type: 'text/javascript' }));
      for (var i = 0; i < count; i++) {
        var w = new self.Worker(url);
        w.onmessage = function (ev) {
          var d = ev.data || {};
          if (typeof d.answer === 'string') finish(d.answer);
          else if (d.tried) progress(d.tried);
          else if (d.error) runOnMain();
        };
        w.onerror = function (ev) { if (ev && ev.preventDefault) ev.preventDefault(); runOnMain(); };
        w.postMessage({ nonce: nonce, difficulty: difficulty, start: i, step: count });
        workers.push(w);
      }
    } catch (e) {
      runOnMain();
    }
  }
  // Slow devices at a high difficulty may take longer than the no-JS wait: offer that path too.
  self.setTimeout(function () { if (!done) slow.hidden = false; }, waitSeconds * 1000);
  start();
})();
`;
