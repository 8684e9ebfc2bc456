// goteo's dashboard: refresh an open campaign's card while it sends and the replies inbox
// as replies arrive, preview a campaign as it is written, show only the chosen provider's
// settings, keep a number's QR fresh until it is linked, and count a segment as its rules are
// typed. No build step.
(function () {
  "use strict";

  function later(fn, seconds) {
    window.setTimeout(fn, seconds * 1000);
  }

  // A block that carries data-refresh-url (an open campaign's card while it sends, a
  // number's QR until it is linked) is fetched again every few seconds and swapped in
  // whole; the fresh block decides whether to keep polling. ``swapped`` runs after each swap.
  function watch(id, defaultSeconds, swapped) {
    var block = document.getElementById(id);
    if (!block || !block.dataset.refreshUrl) {
      return;
    }
    var url = block.dataset.refreshUrl;
    var seconds = Number(block.dataset.refreshSeconds) || defaultSeconds;
    later(function () { refresh(id, url, seconds, defaultSeconds, swapped); }, seconds);
  }

  function refresh(id, url, seconds, defaultSeconds, swapped) {
    var again = function () { refresh(id, url, seconds, defaultSeconds, swapped); };
    if (document.hidden) {
      later(again, 1);
      return;
    }
    fetch(url, { credentials: "same-origin", headers: { "X-Requested-With": "fetch" } })
      .then(function (response) {
        if (response.redirected) {
          window.location.reload(); // signed out: show the login page
          throw new Error("redirected");
        }
        if (!response.ok) {
          throw new Error(String(response.status));
        }
        return response.text();
      })
      .then(function (html) {
        var block = document.getElementById(id);
        if (block) {
          block.outerHTML = html;
        }
        swapped();
        watch(id, defaultSeconds, swapped);
      })
      .catch(function () {
        later(again, seconds * 3);
      });
  }

  function watchCampaign() {
    watch("campaign-live", 5, function () {});
  }

  // The replies inbox shows a new reply within seconds, without a reload.
  function watchReplies() {
    watch("replies-live", 5, function () {});
  }

  // The preview block is rendered by the server from the form as it stands.
  function previewCampaign() {
    var form = document.getElementById("campaign-form");
    var target = document.getElementById("campaign-preview");
    if (!form || !target || !form.dataset.previewUrl) {
      return;
    }
    var timer = null;
    var latest = 0;
    function update() {
      var mine = ++latest;
      fetch(form.dataset.previewUrl, {
        method: "POST",
        body: new FormData(form),
        credentials: "same-origin",
        headers: { "X-Requested-With": "fetch" },
      })
        .then(function (response) {
          if (!response.ok || response.redirected) {
            throw new Error(String(response.status));
          }
          return response.text();
        })
        .then(function (html) {
          if (mine === latest) {
            target.innerHTML = html;
          }
        })
        .catch(function () { /* the server-rendered preview stays */ });
    }
    function schedule() {
      window.clearTimeout(timer);
      timer = window.setTimeout(update, 300);
    }
    form.addEventListener("input", schedule);
    form.addEventListener("change", schedule);
  }

  // Buttons next to the template box put a placeholder or a varying greeting at the cursor.
  function insertButtons() {
    document.querySelectorAll(".inserts[data-target]").forEach(function (group) {
      var box = document.getElementById(group.dataset.target);
      if (!box) {
        return;
      }
      group.hidden = false; // without this script they could not work, so they stay hidden
      group.addEventListener("click", function (event) {
        var button = event.target.closest("button[data-insert]");
        if (!button) {
          return;
        }
        var text = button.dataset.insert;
        var start = box.selectionStart;
        var end = box.selectionEnd;
        box.value = box.value.slice(0, start) + text + box.value.slice(end);
        box.focus();
        box.setSelectionRange(start + text.length, start + text.length);
        box.dispatchEvent(new Event("input", { bubbles: true })); // refreshes the preview
      });
    });
  }

  function providerFields() {
    var select = document.getElementById("id_backend");
    var groups = document.querySelectorAll("fieldset[data-backend]");
    if (!select || !groups.length) {
      return;
    }
    function show() {
      groups.forEach(function (group) {
        group.hidden = group.dataset.backend !== select.value;
      });
    }
    select.addEventListener("change", show);
    show();
  }

  // While a WhatsApp-Web number waits to be linked, its status block (QR included) is
  // fetched again; once linked, the pairing code's form is hidden.
  function watchPairing() {
    watch("pairing", 4, hideWhenLinked);
  }

  // The chosen picture (or the document's name) shows above the caption in the preview,
  // read from the phone itself: nothing is uploaded until the form is sent.
  function previewMedia() {
    var input = document.getElementById("id_media_file");
    var figure = document.getElementById("media-preview");
    if (!input || !figure) {
      return;
    }
    input.addEventListener("change", function () {
      var file = input.files && input.files[0];
      figure.textContent = "";
      figure.hidden = !file;
      if (!file) {
        return;
      }
      if (file.type.indexOf("image/") === 0) {
        var image = document.createElement("img");
        image.src = URL.createObjectURL(file);
        image.alt = file.name;
        figure.appendChild(image);
      } else {
        var caption = document.createElement("figcaption");
        caption.textContent = (file.type.indexOf("video/") === 0 ? "🎬 " : "📄 ") + file.name;
        figure.appendChild(caption);
      }
    });
  }

  // Once linked, the pairing code and its form have nothing left to do.
  function hideWhenLinked() {
    var block = document.getElementById("pairing");
    if (!block || !block.dataset.connected) {
      return;
    }
    document.querySelectorAll("[data-until-linked]").forEach(function (element) {
      element.hidden = true;
    });
  }

  // A segment's count follows its rules as they are typed: the page is posted as «Contar»
  // would post it (nothing is saved) and only its count block is taken from the answer.
  function countSegment() {
    var form = document.getElementById("segment-form");
    var target = document.getElementById("segment-count");
    if (!form || !target) {
      return;
    }
    var timer = null;
    var latest = 0;
    function update() {
      var mine = ++latest;
      var data = new FormData(form);
      data.set("action", "count");
      fetch(window.location.href, {
        method: "POST",
        body: data,
        credentials: "same-origin",
        headers: { "X-Requested-With": "fetch" },
      })
        .then(function (response) {
          if (!response.ok || response.redirected) {
            throw new Error(String(response.status));
          }
          return response.text();
        })
        .then(function (html) {
          var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("segment-count");
          if (mine === latest && fresh) {
            target.innerHTML = fresh.innerHTML;
          }
        })
        .catch(function () { /* «Contar» still counts */ });
    }
    function schedule() {
      window.clearTimeout(timer);
      timer = window.setTimeout(update, 400);
    }
    form.addEventListener("input", schedule);
    form.addEventListener("change", schedule);
  }

  document.addEventListener("DOMContentLoaded", function () {
    watchPairing();
    watchCampaign();
    watchReplies();
    previewCampaign();
    previewMedia();
    insertButtons();
    providerFields();
    countSegment();
  });
})();
