/** Static assets of the hub pages (small enough to ship as strings; served with long caching off). */

export const LOGO_SVG = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64"><rect width="64" height="64" rx="14" fill="#1f5f8b"/><path d="M18 16h8v26h20v8H18z" fill="#fff"/><circle cx="46" cy="22" r="6" fill="#f6a723"/></svg>`;

export const CSS = `
*{box-sizing:border-box}body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1d2733;background:#f4f6f9}
header{display:flex;align-items:center;justify-content:space-between;padding:.6rem 1.2rem;background:#fff;border-bottom:1px solid #dde3ea}
.brand{display:flex;align-items:center;gap:.5rem;font-weight:600;color:#1f5f8b;text-decoration:none;font-size:1.1rem}
nav a{margin-left:1rem;color:#1f5f8b}nav .who{color:#56606b}
main{max-width:40rem;margin:3rem auto;padding:2rem;background:#fff;border:1px solid #dde3ea;border-radius:10px}
h1{font-size:1.4rem;margin-top:0}label{display:block;margin:.8rem 0 .2rem;font-weight:500}
input[type=text],input[type=password]{width:100%;padding:.55rem .7rem;border:1px solid #b9c3ce;border-radius:6px;font-size:1rem}
button,.button{display:inline-block;margin-top:1.2rem;padding:.55rem 1.2rem;border:0;border-radius:6px;background:#1f5f8b;color:#fff;font-size:1rem;cursor:pointer;text-decoration:none}
button.secondary,.button.secondary{background:#e6ebf0;color:#1d2733}button.danger{background:#b3261e}
.error{padding:.7rem 1rem;border-radius:6px;background:#fdecea;color:#8c1d18;border:1px solid #f5c2bd;white-space:pre-wrap}
.notice{padding:.7rem 1rem;border-radius:6px;background:#fff8e1;border:1px solid #f3df9b}
progress{width:100%;height:1.1rem}#log{font:13px/1.4 ui-monospace,monospace;background:#f4f6f9;padding:.6rem;border-radius:6px;max-height:14rem;overflow:auto;white-space:pre-wrap}
details pre{white-space:pre-wrap;font-size:13px;background:#f4f6f9;padding:.6rem;border-radius:6px}
.muted{color:#56606b;font-size:.92rem}
.restore-link{margin-top:1.6rem}.ok-message{padding:.7rem 1rem;border-radius:6px;background:#e6f4ea;color:#175c34;border:1px solid #b7dfc2}
main[data-page=restore]{max-width:56rem}main[data-page=restore] section{margin-top:1.4rem}
.plain-list{list-style:none;padding:0;margin:0}.plain-list li{padding:.25rem 0}
button.link{background:none;color:#1f5f8b;padding:0;margin:0;text-decoration:underline;font-size:inherit}
button.small{margin:0;padding:.25rem .7rem;font-size:.9rem}
.entries{width:100%;border-collapse:collapse;margin:.6rem 0}.entries th,.entries td{text-align:left;padding:.35rem .5rem;border-bottom:1px solid #eef1f4}
.entries th{font-size:.86rem;color:#56606b}.entries td.num{text-align:right;font-variant-numeric:tabular-nums}
fieldset{border:1px solid #dde3ea;border-radius:6px;margin:.6rem 0}label.radio{display:flex;gap:.5rem;align-items:baseline;font-weight:400;margin:.3rem 0}
.overwrite-list{max-height:14rem;overflow:auto;font:13px/1.5 ui-monospace,monospace;background:#f4f6f9;border-radius:6px;padding:.5rem 1.6rem}
.visually-hidden{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
`;

/**
 * The spawn-pending page: follows the progress stream and moves on when the server is ready.
 * While the spawn waits in the class-start queue, each new place replaces the last one in the log
 * (one line, not one per student ahead) and a note says the place is kept.
 */
export const SPAWN_PENDING_JS = `
(function(){
  var main=document.querySelector('main');var url=main.dataset.progressUrl;var next=main.dataset.next;
  var bar=document.getElementById('bar');var msg=document.getElementById('message');var log=document.getElementById('log');
  var failed=document.getElementById('failed');var queued=document.getElementById('queued');var queueLine=null;
  var es=new EventSource(url);
  es.onmessage=function(ev){
    var e;try{e=JSON.parse(ev.data)}catch(x){return}
    if(typeof e.progress==='number')bar.value=e.progress;
    queued.hidden=!e.queue;
    if(e.message){
      msg.textContent=e.message;
      var line=e.queue&&queueLine?queueLine:document.createElement('div');line.textContent=e.message;
      if(line!==queueLine)log.appendChild(line);queueLine=e.queue?line:null;log.scrollTop=log.scrollHeight;
    }
    if(e.ready){es.close();msg.textContent='Your server is ready. Opening it…';window.location.replace(next||e.url)}
    if(e.failed){es.close();bar.value=100;failed.hidden=false;document.getElementById('failed-message').textContent=e.message}
  };
  es.onerror=function(){if(es.readyState===2){setTimeout(function(){window.location.reload()},3000)}};
})();
`;

/** The home page: stop my server (API call with the session's CSRF token). */
export const HOME_JS = `
(function(){
  var main=document.querySelector('main');var stop=document.getElementById('stop');if(!stop)return;
  stop.addEventListener('click',function(){
    stop.disabled=true;stop.textContent='Stopping…';
    fetch('/hub/api/users/'+encodeURIComponent(main.dataset.user)+'/server',{method:'DELETE',credentials:'same-origin',headers:{'X-XSRFToken':main.dataset.xsrf}})
      .then(function(r){if(r.status>=400)throw new Error('HTTP '+r.status);setTimeout(function(){window.location.reload()},r.status===202?1500:0)})
      .catch(function(err){stop.disabled=false;stop.textContent='Stop my server';alert('Could not stop the server: '+err.message)});
  });
})();
`;
