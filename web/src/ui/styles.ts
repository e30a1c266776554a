//! The element's style sheet. Everything visible is themable through `--booking-chat-*` custom properties
//! (defaults below, with a dark variant) and through `::part()`. Logical properties throughout, so that
//! right-to-left pages mirror.

/** Light defaults, then dark ones; each `--booking-chat-<name>` overrides both. */
const PALETTE: Record<string, [string, string]> = {
  bg: ["#ffffff", "#16191f"],
  fg: ["#1d2330", "#e8ebf1"],
  muted: ["#545d6e", "#a7b0c0"],
  border: ["#d5dae2", "#343a46"],
  bubble: ["#eef1f6", "#252a35"],
  "bubble-fg": ["#1d2330", "#e8ebf1"],
  "bubble-mine": ["#dbe8ff", "#23407e"],
  "bubble-mine-fg": ["#102040", "#ffffff"],
  accent: ["#2f5bea", "#8eaeff"],
  "accent-fg": ["#ffffff", "#0b1020"],
  danger: ["#b42318", "#ff9b92"],
  notice: ["#fff6d6", "#3b3217"],
};

export const vars = (dark: boolean): string =>
  Object.entries(PALETTE)
    .map(([name, values]) => `--_${name}:var(--booking-chat-${name},${values[dark ? 1 : 0]});`)
    .join("");

/**
 * The shadow root's CSS. Built by a call marked pure, so that a bundle which imports only `vars` (the inbox's)
 * leaves it out.
 */
export const STYLES = /* @__PURE__ */ (() => `
:host{display:block;${vars(false)}--_radius:var(--booking-chat-radius,12px);--_font:var(--booking-chat-font,system-ui,-apple-system,"Segoe UI",sans-serif);
height:var(--booking-chat-height,480px);min-width:0;container-type:inline-size;color-scheme:light;font:15px/1.4 var(--_font);color:var(--_fg)}
@media (prefers-color-scheme:dark){:host(:not([theme=light])){${vars(true)}color-scheme:dark}}
:host([theme=dark]){${vars(true)}color-scheme:dark}
:host([hidden]),[hidden]{display:none!important}
*{box-sizing:border-box}
.chat{display:flex;flex-direction:column;height:100%;background:var(--_bg);border:1px solid var(--_border);border-radius:var(--_radius);overflow:hidden}
header,.end{display:flex;gap:.5rem;align-items:center;justify-content:space-between;padding:.6rem .9rem;border-block-end:1px solid var(--_border)}
.end{padding:0;border:0}
h2{font-size:1rem;margin:0;overflow-wrap:anywhere}
.status{font-size:.8rem;color:var(--_muted);display:flex;gap:.35rem;align-items:center;white-space:nowrap}
.status::before{content:"";inline-size:.55rem;block-size:.55rem;border-radius:50%;background:var(--_muted)}
.status[data-state=online]::before{background:#1f9d55}
.status[data-state=stopped]::before{background:var(--_danger)}
.booking{font-size:.75rem;color:var(--_muted)}
.presence{display:block;font-size:.75rem;color:var(--_muted)}
.presence:empty{display:none}
.banner,.note p{padding:.45rem .9rem;background:var(--_notice);font-size:.85rem;margin:0}
.banner button,.note button,header button{margin-inline-start:.5rem;padding:.1rem .7rem}
.log{flex:1;overflow-y:auto;padding:.5rem .9rem;overscroll-behavior:contain}
.log:focus-visible,button:focus-visible,textarea:focus-visible,input:focus-visible{outline:2px solid var(--_accent);outline-offset:2px}
ol{list-style:none;margin:0;padding:0}
li.msg{display:flex;margin:.3rem 0}
li.mine{justify-content:flex-end}
.bubble{max-inline-size:min(80%,40rem);min-inline-size:0;padding:.4rem .65rem;border-radius:var(--_radius);background:var(--_bubble);color:var(--_bubble-fg)}
.mine .bubble{background:var(--_bubble-mine);color:var(--_bubble-mine-fg)}
.sender{font-size:.75rem;font-weight:600}
.body{margin:0;white-space:pre-wrap;overflow-wrap:anywhere;word-break:break-word}
.deleted .body{font-style:italic}
.meta{font-size:.72rem;opacity:.85;display:flex;flex-wrap:wrap;gap:.4rem;align-items:center;margin-block-start:.15rem}
.failed .meta{color:var(--_danger);opacity:1}
.mine .meta{justify-content:flex-end}
.reactions{display:flex;flex-wrap:wrap;gap:.25rem;margin-block-start:.25rem}
button{font:inherit;color:inherit;cursor:pointer}
button:disabled{cursor:default;opacity:.6}
.banner button,.note button,header button,.older,li button{font-size:.8rem;border:1px solid var(--_border);background:var(--_bg);color:var(--_fg);border-radius:99px}
.sender img{inline-size:1.3rem;block-size:1.3rem;border-radius:50%;object-fit:cover;vertical-align:middle;margin-inline-end:.3rem}
.editor{display:flex;flex-wrap:wrap;gap:.3rem;align-items:center}
.editor textarea,.editor p{flex-basis:100%;min-block-size:3rem}
.editor p{min-block-size:0}
.editor [role=alert]{color:var(--_danger);font-size:.8rem}
li button{font-size:.75rem;padding:.05rem .45rem;min-block-size:1.6rem}
.reactions button[aria-pressed=true],[aria-expanded=true]{border-color:var(--_accent)}
@media (hover:hover){li:not(:hover,:focus-within) .reactions button.quick{opacity:0}}
li.day{text-align:center;font-size:.75rem;color:var(--_muted);margin:.7rem 0 .3rem}
.older{display:block;margin:.2rem auto .5rem;padding:.2rem .8rem}
.typing{min-block-size:1.3rem;padding:0 .9rem;font-size:.8rem;color:var(--_muted)}
form{display:flex;gap:.5rem;padding:.5rem .9rem .7rem;border-block-start:1px solid var(--_border)}
textarea,input{flex:1;min-inline-size:0;resize:none;font:inherit;color:var(--_fg);background:var(--_bg);border:1px solid var(--_border);border-radius:8px;padding:.45rem .6rem;max-block-size:8rem}
.send{border:0;border-radius:8px;padding:.45rem .95rem;background:var(--_accent);color:var(--_accent-fg);font-weight:600}
.sr{position:absolute;inline-size:1px;block-size:1px;overflow:hidden;clip-path:inset(50%);white-space:nowrap}
.files{display:flex;flex-wrap:wrap;gap:.3rem;margin:0;padding:.2rem 0;list-style:none}
.files:empty{display:none}
ul.files{padding:.3rem .9rem 0}
ul.files li{display:flex;gap:.4rem;align-items:center;padding:.2rem .3rem .2rem .5rem;border:1px solid var(--_border);border-radius:8px;font-size:.8rem}
.files [role=alert]{color:var(--_danger)}
.files progress{inline-size:5rem}
.files img{display:block;inline-size:15rem;max-inline-size:100%;block-size:auto;max-block-size:12rem;object-fit:contain;border-radius:6px}
ul.files img{inline-size:auto;block-size:2.2rem}
li [part=thumbnail]{padding:0;border-radius:6px;overflow:hidden}
.chat[data-drop]{outline:2px dashed var(--_accent);outline-offset:-4px;position:relative}
.chat[data-drop]::after{content:attr(data-drop);position:absolute;inset-inline:0;top:45%;text-align:center;font-weight:600}
[part=attach],[part=search-close]{border:0;background:none;padding:0 .2rem;font-size:1.1rem}
.search{flex:none;max-block-size:60%;overflow-y:auto;border-block-end:1px solid var(--_border)}
.search form{padding:.5rem .9rem;border:0}
.search p{margin:0;padding:0 .9rem;font-size:.8rem;color:var(--_muted)}
.search li button{display:block;inline-size:100%;text-align:start;border:0;border-radius:0;padding:.35rem .9rem;background:none;font-size:.85rem}
.search li button:hover{background:var(--_bubble)}
.search time{margin-inline-start:.4rem;font-size:.75rem;color:var(--_muted)}
.snippet{display:block;overflow-wrap:anywhere}
mark{background:var(--_notice);color:inherit}
li.found .bubble{outline:2px solid var(--_accent);outline-offset:2px}
dialog{padding:.5rem;border:0;border-radius:var(--_radius);background:var(--_bg);color:var(--_fg);text-align:end}
dialog img{display:block;inline-size:auto;block-size:auto;max-inline-size:90vw;max-block-size:80vh;margin-block-end:.5rem}
dialog::backdrop{background:#000c}
@container (max-width:480px){header,form,.log{padding-inline:.6rem}.bubble{max-inline-size:88%}}
`)();
