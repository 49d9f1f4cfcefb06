/**
 * The dashboard's stylesheet and script, served as same-origin files (`/ui/app.css`,
 * `/ui/app.js`) so the Content-Security-Policy can forbid every inline script and style. The
 * pages work without the script: it only formats times in the user's locale, counts down
 * expiries, and keeps the live views (runs, a login's progress) current over server-sent events.
 * It never writes data into HTML: text goes in through `textContent`; the one HTML it inserts is
 * a fragment the server rendered (and escaped) for the runs table.
 */

/** Light and dark (prefers-color-scheme), readable from 320 px up; focus always visible. */
export const APP_CSS = `:root{color-scheme:light dark;--bg:#fff;--fg:#1b1f24;--muted:#57606a;--line:#d0d7de;--card:#f6f8fa;--accent:#0550ae;--ok:#116329;--warn:#9a6700;--bad:#a40e26}
@media (prefers-color-scheme:dark){:root{--bg:#0d1117;--fg:#e6edf3;--muted:#9198a1;--line:#30363d;--card:#161b22;--accent:#58a6ff;--ok:#3fb950;--warn:#d29922;--bad:#f85149}}
*{box-sizing:border-box}body{margin:0;font:15px/1.5 system-ui,sans-serif;background:var(--bg);color:var(--fg)}
a{color:var(--accent)}.skip{position:absolute;left:-99rem}.skip:focus{left:.5rem;top:.5rem;z-index:1;background:var(--bg);padding:.25rem .5rem}:focus-visible{outline:3px solid var(--accent);outline-offset:2px}
header{display:flex;flex-wrap:wrap;gap:.5rem 1.5rem;align-items:center;padding:.6rem 1rem;border-bottom:1px solid var(--line);background:var(--card)}
header strong{font-size:1.1rem}header label{display:inline;font-weight:400}header select{width:auto}nav ul{display:flex;flex-wrap:wrap;gap:.25rem 1rem;list-style:none;margin:0;padding:0}
nav a[aria-current=page]{font-weight:700;text-decoration:none;color:var(--fg)}
main{max-width:72rem;margin:0 auto;padding:1rem}section{margin:0 0 1.75rem}h1{font-size:1.4rem;margin:.25rem 0 1rem}h2{font-size:1.15rem;margin:1.25rem 0 .5rem}h3{font-size:1rem;margin:1rem 0 .4rem}
.card{background:var(--card);border:1px solid var(--line);border-radius:6px;padding:.75rem 1rem;margin:.5rem 0}
.scroll{overflow-x:auto}table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:.3rem .5rem;border-bottom:1px solid var(--line);vertical-align:top}th{font-weight:600;color:var(--muted)}
.muted,small{color:var(--muted)}.ok{color:var(--ok)}.warn{color:var(--warn)}.bad{color:var(--bad)}code{font:13px ui-monospace,monospace;overflow-wrap:anywhere}td code{white-space:nowrap}
form.inline{display:inline}.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(14rem,1fr));gap:.5rem 1rem;align-items:end}
label{display:block;font-weight:600}label small{font-weight:400}input,select,button{font:inherit;color:inherit}
input[type=text],input[type=password],input[type=url],input:not([type]),select{width:100%;padding:.35rem .5rem;border:1px solid var(--line);border-radius:4px;background:var(--bg)}
button{padding:.35rem .9rem;border:1px solid var(--line);border-radius:4px;background:var(--bg);cursor:pointer}button.primary{background:var(--accent);border-color:var(--accent);color:#fff}button.danger{border-color:var(--bad);color:var(--bad)}
.flash{padding:.6rem 1rem;border-radius:6px;border:1px solid var(--line);margin:0 0 1rem}.flash.error{border-color:var(--bad)}.flash.ok{border-color:var(--ok)}
.badge{display:inline-block;white-space:nowrap;padding:0 .4rem;border:1px solid var(--line);border-radius:1rem;font-size:.8rem}
.pager{display:flex;flex-wrap:wrap;gap:.25rem 1rem;align-items:center;margin:.5rem 0}.more{margin:.4rem 0}
ul.events{list-style:none;padding:0;margin:0;max-height:20rem;overflow:auto}ul.events li{padding:.15rem 0;border-bottom:1px dashed var(--line)}
@media (max-width:40rem){th,td{padding:.25rem}header{padding:.5rem}main{padding:.6rem}}`;

/** Progressive enhancement only (see the module comment). */
export const APP_JS = `"use strict";(()=>{
const fmt=(iso)=>{const d=new Date(iso);return isNaN(d.getTime())?iso:d.toLocaleString()};
const left=(iso)=>{const ms=Date.parse(iso)-Date.now();if(!(ms>0))return"expired";const m=Math.floor(ms/6e4),d=Math.floor(m/1440),h=Math.floor(m%1440/60);return"in "+(d?d+" d ":"")+(d||h?h+" h ":"")+(d?"":m%60+" min")};
const times=(root)=>{for(const t of root.querySelectorAll("time[datetime]")){t.title=t.dateTime;t.textContent=fmt(t.dateTime)}for(const e of root.querySelectorAll("[data-expires]"))e.textContent=left(e.dataset.expires)};
times(document);setInterval(()=>{for(const e of document.querySelectorAll("[data-expires]"))e.textContent=left(e.dataset.expires)},30000);
const line=(list,text,href)=>{const li=document.createElement("li");li.textContent=text;if(href&&/^https?:\\/\\//.test(href)){li.append(" ");const a=document.createElement("a");a.href=href;a.target="_blank";a.rel="noreferrer";a.textContent="open";li.append(a)}list.prepend(li);return li};
const runs=document.getElementById("runs");
if(runs&&runs.dataset.live){const log=document.getElementById("run-events");let busy=false,again=false;
const refresh=()=>{if(busy){again=true;return}busy=true;fetch(runs.dataset.fragment,{credentials:"same-origin"}).then((r)=>r.ok?r.text():Promise.reject(r.status)).then((html)=>{const t=document.createElement("template");t.innerHTML=html;runs.replaceChildren(t.content);times(runs)}).catch(()=>{}).finally(()=>{busy=false;if(again){again=false;refresh()}})};
const es=new EventSource(runs.dataset.live);es.addEventListener("run",(m)=>{const e=JSON.parse(m.data);if(log){const empty=log.querySelector(".empty");if(empty)empty.remove();line(log,new Date(e.time).toLocaleTimeString()+" run "+e.run.slice(0,6)+" "+e.kind+(e.method?" "+e.method:"")+(e.host?" "+e.host:"")+(e.provider?" via "+e.provider+(e.connection?"/"+e.connection:""):"")+(e.status?" ("+e.status+")":"")).dataset.kind=e.kind}refresh()});}
const login=document.getElementById("login-log");
if(login&&login.dataset.live){const es=new EventSource(login.dataset.live);const status=document.getElementById("login-status");
es.addEventListener("step",(m)=>{const e=JSON.parse(m.data);line(login,e.text,e.url)});
es.addEventListener("done",(m)=>{const e=JSON.parse(m.data);es.close();if(status){status.textContent=e.text;status.className="flash "+(e.ok?"ok":"error")}});}
})();`;
