/**
 * /hub/static/restore.js, the restore page's script (hub/pages/restore.ts): snapshots newest
 * first in local time, one folder level at a time, then a side restore or, for in place, the
 * server's list of what would be overwritten and a second click to confirm. Text only (never
 * innerHTML); writes carry the session's CSRF token.
 */
export const RESTORE_JS = `
(function(){
  'use strict';
  var main=document.querySelector('main');var user=main.dataset.user;var xsrf=main.dataset.xsrf;
  var base='/hub/api/users/'+encodeURIComponent(user)+'/backups';
  var $=function(id){return document.getElementById(id)};
  var msg=$('message'),list=$('snapshot-list'),browser=$('browser'),crumbs=$('crumbs'),tbody=document.querySelector('#entries tbody');
  var confirmBox=$('confirm'),overwrite=$('overwrite'),overwriteList=$('overwrite-list'),go=$('confirm-restore');
  var snap=null,folder='/',target=null,plan=null;
  function el(tag,attrs,text){var e=document.createElement(tag);for(var k in attrs||{})e.setAttribute(k,attrs[k]);if(text!=null)e.textContent=String(text);return e}
  function when(iso){return new Date(iso).toLocaleString(undefined,{dateStyle:'medium',timeStyle:'short'})}
  function size(n){if(n==null)return '';var u=['B','kB','MB','GB','TB'],i=0;while(n>=1000&&i<4){n/=1000;i++}return (i&&n<100?n.toFixed(1):Math.round(n))+' '+u[i]}
  function home(p){return p.replace(/^\\/home\\/[^/]+/,'~')}
  function say(text,kind){msg.replaceChildren();if(text)msg.appendChild(el('p',{'class':kind||'notice',role:kind==='error'?'alert':'status'},text))}
  function api(method,url,body){
    var init={method:method,credentials:'same-origin',headers:{Accept:'application/json'}};
    if(method!=='GET'){init.headers['X-XSRFToken']=xsrf;init.headers['Content-Type']='application/json';init.body=JSON.stringify(body||{})}
    return fetch(url,init).then(function(r){return r.text().then(function(t){
      var d=null;try{d=t?JSON.parse(t):null}catch(e){}
      if(r.status===409&&d&&d.plan)return {plan:d.plan};
      if(!r.ok)throw new Error(d&&d.message?d.message:'The hub answered '+r.status);
      return d;
    })});
  }
  function fail(err){say(err.message,'error')}

  function loadSnapshots(){
    api('GET',base).then(function(snaps){
      $('snapshots-loading').hidden=true;list.replaceChildren();
      if(!snaps.length){list.appendChild(el('li',{'class':'muted'},'There are no backups of these files yet.'));return}
      snaps.forEach(function(s,i){
        var b=el('button',{type:'button','class':'link snapshot','data-snapshot':s.id},when(s.time));
        b.addEventListener('click',function(){open(s,'/')});
        var li=el('li');li.appendChild(b);li.appendChild(el('span',{'class':'muted'},' '+s.shortId+(i===0?' · newest':'')));list.appendChild(li);
      });
    }).catch(function(err){$('snapshots-loading').hidden=true;fail(err)});
  }

  function open(s,path){
    snap=s;folder=path;closeConfirm();
    api('GET',base+'/'+encodeURIComponent(s.id)+'/files?path='+encodeURIComponent(path)).then(function(entries){
      browser.hidden=false;$('browser-title').textContent='Backup of '+when(s.time);
      crumbs.replaceChildren();var parts=path.split('/').filter(Boolean),acc='';
      var top=el('button',{type:'button','class':'link crumb','data-path':'/'},'Home folder');top.addEventListener('click',function(){open(s,'/')});crumbs.appendChild(top);
      parts.forEach(function(p){acc+='/'+p;var to=acc;crumbs.appendChild(document.createTextNode(' / '));
        var c=el('button',{type:'button','class':'link crumb','data-path':to},p);c.addEventListener('click',function(){open(s,to)});crumbs.appendChild(c)});
      tbody.replaceChildren();
      entries.sort(function(a,b){return (a.type==='dir'?0:1)-(b.type==='dir'?0:1)||a.name.localeCompare(b.name)});
      if(!entries.length){var tr0=el('tr');var td0=el('td',{colspan:'4','class':'muted'},'This folder was empty.');tr0.appendChild(td0);tbody.appendChild(tr0)}
      entries.forEach(function(e){
        var tr=el('tr',{'data-path':e.path,'data-type':e.type});var name=el('td');
        if(e.type==='dir'){var d=el('button',{type:'button','class':'link'},e.name+'/');d.addEventListener('click',function(){open(s,e.path)});name.appendChild(d)}
        else name.textContent=e.name+(e.type==='symlink'?' (link)':'');
        var act=el('td');var rb=el('button',{type:'button','class':'small restore-entry'},'Restore');
        rb.setAttribute('aria-label','Restore '+e.name);rb.addEventListener('click',function(){ask(e.path)});act.appendChild(rb);
        tr.appendChild(name);tr.appendChild(el('td',{'class':'num'},e.type==='dir'?'':size(e.size)));tr.appendChild(el('td',{},e.mtime?when(e.mtime):''));tr.appendChild(act);tbody.appendChild(tr);
      });
      $('restore-folder').textContent=path==='/'?'Restore the whole home folder':'Restore this whole folder';
    }).catch(fail);
  }

  function mode(){return document.querySelector('input[name=mode]:checked').value}
  function ask(path){
    target=path;plan=null;overwrite.hidden=true;say('');
    $('confirm-title').textContent='Restore '+(path==='/'?'the whole home folder':path)+' from the backup of '+when(snap.time);
    document.querySelector('input[name=mode][value=side]').checked=true;go.textContent='Restore';go.className='';
    confirmBox.hidden=false;confirmBox.scrollIntoView({block:'nearest'});go.focus();
  }
  function closeConfirm(){confirmBox.hidden=true;plan=null;target=null}
  Array.prototype.forEach.call(document.querySelectorAll('input[name=mode]'),function(r){r.addEventListener('change',function(){plan=null;overwrite.hidden=true;go.textContent='Restore';go.className=''})});
  $('cancel-restore').addEventListener('click',closeConfirm);
  $('restore-folder').addEventListener('click',function(){ask(folder)});

  go.addEventListener('click',function(){
    if(!snap||!target)return;
    var m=mode(),body={path:target,mode:m};if(m==='in-place'&&plan)body.confirmToken=plan.confirmToken;
    go.disabled=true;say(m==='side'?'Restoring…':'Checking what would be overwritten…');
    api('POST',base+'/'+encodeURIComponent(snap.id)+'/restore',body).then(function(d){
      if(d&&d.plan){showPlan(d.plan);return}
      closeConfirm();
      var where=d.mode==='side'?'You find '+(d.files===1?'it':'them')+' in '+home(d.target)+(d.path==='/'?'':d.path)+'.':'They are back in their original place.';
      say('Restored '+d.files+' file'+(d.files===1?'':'s')+' ('+size(d.bytes)+') of '+(d.path==='/'?'the home folder':d.path)+'. '+where,'ok-message');
      msg.firstChild.id='restore-result';msg.firstChild.dataset.target=d.target;
    }).catch(fail).then(function(){go.disabled=false});
  });
  function showPlan(p){
    plan=p;say('');overwriteList.replaceChildren();
    var n=p.overwrite.length;
    $('overwrite-note').textContent=n?'These '+n+' file'+(n===1?'':'s')+' in '+home(p.target)+' will be replaced by the backup\\'s version:':'No file there now will be overwritten.';
    p.overwrite.slice(0,500).forEach(function(f){overwriteList.appendChild(el('li',{},f))});
    if(n>500)overwriteList.appendChild(el('li',{'class':'muted'},'…and '+(n-500)+' more'));
    overwrite.hidden=false;go.textContent=n?'Overwrite '+n+' file'+(n===1?'':'s'):'Restore in place';go.className=n?'danger':'';go.focus();
  }
  loadSnapshots();
})();
`;
