(()=>{var Ce=["ready","open","close","message","answer","lead","handoff"];function Q(){let e=new Map;return{on(t,o){return Ce.indexOf(t)<0||typeof o!="function"?!1:(e.has(t)||e.set(t,[]),e.get(t).push(o),!0)},off(t,o){let n=e.get(t)||[],r=n.indexOf(o);r>=0&&n.splice(r,1)},emit(t,o){for(let n of(e.get(t)||[]).slice())try{n(o)}catch(r){typeof console<"u"&&console.error("Concierge: an event listener failed",r)}},clear(){e.clear()}}}function Z(e){return function(o,...n){let r=typeof o=="string"&&Object.prototype.hasOwnProperty.call(e,o)?e[o]:null;if(!r){typeof console<"u"&&console.warn("Concierge: unknown command",o);return}try{return r(...n)}catch(i){typeof console<"u"&&console.error("Concierge: command failed",o,i);return}}}function X(e,t){let o=Array.isArray(e)?e.splice(0,e.length):[];for(let n of o)n&&typeof n.length=="number"&&t(...Array.prototype.slice.call(n))}function ee(e){if(!e||typeof e!="object")return null;let t={};return typeof e.email=="string"&&/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(e.email.trim())&&e.email.length<=254&&(t.email=e.email.trim()),typeof e.name=="string"&&e.name.trim()&&e.name.length<=200&&(t.name=e.name.trim()),t.email||t.name?t:null}function te(e,t){try{return new URL(e,t)}catch{return null}}function oe(e,t,o){if(typeof e!="string"||!e)return null;let n=te(e,t+"/");if(!n||n.protocol!=="https:"&&n.protocol!=="http:")return null;if(n.origin===t)return n.href;let r=Array.isArray(o)?o:[];return n.protocol==="https:"&&r.indexOf(n.origin)>=0?n.href:null}function ne(e,t){if(typeof e!="string"||!e||/^[a-z][a-z0-9+.-]*:/i.test(e)||e.charAt(0)==="/"||e.charAt(0)==="\\")return null;let o=e.indexOf("#"),n=o>=0?e.slice(0,o):e,r=o>=0?e.slice(o+1):"";if(n.split("/").some(c=>c===".."||c==="."))return null;let i=n.split("/").map(encodeURIComponent).join("/");return t+"/sources/"+i+(r?"#"+encodeURI(r):"")}function U(e,t){let o=typeof e=="string"&&e?te(e,t):null;return o&&(o.protocol==="https:"||o.protocol==="http:")?o.origin:null}function re(e,t){let o=e&&typeof e=="object"?e:{},n=t||{},r=(c,s)=>{if(typeof n[c]=="string"&&n[c].trim())return n[c].trim();let l=o[s||c];return typeof l=="string"?l:""},i=(Array.isArray(o.image_origins)?o.image_origins:[]).map(c=>U(c)).filter(Boolean);return{title:r("title"),subtitle:r("subtitle"),greeting:r("greeting"),fallback:r("fallback"),supportEmail:typeof o.support_email=="string"?o.support_email:"",locale:r("locale")||"en",imageOrigins:i}}function ie(e,t,o){return U(t,o)||U(e,o)||U(o)||""}function Ee(e){let t={event:"message",id:null,data:[]};for(let o of e.split(`
`)){if(!o||o.charAt(0)===":")continue;let n=o.indexOf(":"),r=n>=0?o.slice(0,n):o,i=n>=0?o.slice(n+1).replace(/^ /,""):"";r==="data"?t.data.push(i):r==="event"?t.event=i:r==="id"&&(t.id=i)}if(!t.data.length)return null;try{return{event:t.event,id:t.id,data:JSON.parse(t.data.join(`
`))}}catch{return null}}function ae(e){let t="";return function(n){t+=n.replace(/\r\n?/g,`
`);let r=t.indexOf(`

`);for(;r>=0;){let i=Ee(t.slice(0,r));t=t.slice(r+2),i&&e(i),r=t.indexOf(`

`)}}}var Se=2e4,Ae=3e3,Ne=3e3;function B(e,t,o,n,r=globalThis.fetch){let i=typeof AbortController=="function"?new AbortController:null,c=i?setTimeout(()=>i.abort(),Se):null,s={"Content-Type":"application/json"};return n&&(s.Authorization="Bearer "+n),r(e+t,{method:"POST",headers:s,body:JSON.stringify(o),signal:i?i.signal:void 0,credentials:"omit",mode:"cors"}).then(l=>l.json().catch(()=>null).then(d=>({ok:l.ok,status:l.status,body:d}))).finally(()=>{c&&clearTimeout(c)})}function ce(e,t=globalThis.fetch){return new Promise(o=>{let n=setTimeout(()=>o(null),Ae);t(e+"/api/widget/config",{headers:{Accept:"application/json"},credentials:"omit",mode:"cors"}).then(r=>r.ok?r.json():null).then(r=>o(r&&typeof r=="object"?r:null)).catch(()=>o(null)).finally(()=>clearTimeout(n))})}function se(e,t,o,n=globalThis.fetch){let r=null,i=null;function c(){i&&(clearTimeout(i),i=null),r&&(r.abort(),r=null)}function s(){i||(i=setTimeout(()=>{i=null,b()},Ne))}function l(h){t.markEvent(h.id)&&o(h)}function d(h){let m=new TextDecoder,g=ae(l);function k(){return h.read().then(x=>{if(!x.done)return g(m.decode(x.value,{stream:!0})),k()})}return k()}function b(){let h=t.token();if(!h||r||typeof AbortController!="function"||typeof TextDecoder!="function")return;let m=new AbortController;r=m;let g={Accept:"text/event-stream",Authorization:"Bearer "+h},k=t.lastEventId();k&&(g["Last-Event-ID"]=k),n(e+"/api/chat/events",{headers:g,signal:m.signal,credentials:"omit",mode:"cors"}).then(x=>x.status===401?"refused":!x.ok||!x.body?"retry":d(x.body.getReader()).then(()=>"retry")).catch(()=>m.signal.aborted?"stopped":"retry").then(x=>{r===m&&(r=null),x==="retry"&&!m.signal.aborted&&s()})}return{start:b,stop:c}}var Y={en:{"launcher.open":"Open chat: {title}","launcher.close":"Close chat: {title}","panel.close":"Close chat","panel.title":"Concierge","log.label":"Conversation","speaker.user":"You said:","speaker.bot":"Assistant said:","speaker.notice":"Notice:","announce.bot":"Assistant: {text}","announce.typing":"The assistant is typing\u2026","input.label":"Your message","input.placeholder":"Type your question\u2026",send:"Send","buttons.label":"Suggested replies","sources.label":"Sources","feedback.label":"Was this helpful?","feedback.up":"Yes, this was helpful","feedback.down":"No, this was not helpful","feedback.thanks":"Thanks for your feedback!","feedback.ended":"Sorry, this conversation has ended, so feedback can't be saved.","feedback.failed":"Sorry, that didn't go through. Please try again.","error.fallback":"Sorry, I'm having trouble right now. Please try again in a minute.","error.fallback_email":"Sorry, I'm having trouble right now. Please try again in a minute, or email {email}.","error.invalid":"Sorry, I couldn't send that: {reason}.","conversation.restarted":"Sorry, we couldn't continue our earlier conversation, so I've started a new one. Your message is on its way.","notice.agent_joined":"A person from our team has joined the conversation.","notice.agent_left":"You're back with the assistant.",greeting:"Hi! Ask me about products, orders, shipping and returns.","footer.stop":"Stop contacting me","footer.stop_message":"stop contacting me","image.alt":"Image from the assistant"},"zh-CN":{"launcher.open":"\u6253\u5F00\u804A\u5929\uFF1A{title}","launcher.close":"\u5173\u95ED\u804A\u5929\uFF1A{title}","panel.close":"\u5173\u95ED\u804A\u5929","panel.title":"Concierge","log.label":"\u5BF9\u8BDD","speaker.user":"\u4F60\u8BF4\uFF1A","speaker.bot":"\u52A9\u624B\u8BF4\uFF1A","speaker.notice":"\u63D0\u793A\uFF1A","announce.bot":"\u52A9\u624B\uFF1A{text}","announce.typing":"\u52A9\u624B\u6B63\u5728\u8F93\u5165\u2026","input.label":"\u4F60\u7684\u6D88\u606F","input.placeholder":"\u8F93\u5165\u4F60\u7684\u95EE\u9898\u2026",send:"\u53D1\u9001","buttons.label":"\u5EFA\u8BAE\u7684\u56DE\u590D","sources.label":"\u6765\u6E90","feedback.label":"\u8FD9\u4E2A\u56DE\u7B54\u6709\u5E2E\u52A9\u5417\uFF1F","feedback.up":"\u662F\u7684\uFF0C\u6709\u5E2E\u52A9","feedback.down":"\u4E0D\uFF0C\u6CA1\u6709\u5E2E\u52A9","feedback.thanks":"\u611F\u8C22\u4F60\u7684\u53CD\u9988\uFF01","feedback.ended":"\u62B1\u6B49\uFF0C\u6B64\u5BF9\u8BDD\u5DF2\u7ED3\u675F\uFF0C\u65E0\u6CD5\u4FDD\u5B58\u53CD\u9988\u3002","feedback.failed":"\u62B1\u6B49\uFF0C\u63D0\u4EA4\u5931\u8D25\uFF0C\u8BF7\u518D\u8BD5\u4E00\u6B21\u3002","error.fallback":"\u62B1\u6B49\uFF0C\u6211\u73B0\u5728\u9047\u5230\u4E86\u95EE\u9898\uFF0C\u8BF7\u7A0D\u540E\u518D\u8BD5\u3002","error.fallback_email":"\u62B1\u6B49\uFF0C\u6211\u73B0\u5728\u9047\u5230\u4E86\u95EE\u9898\uFF0C\u8BF7\u7A0D\u540E\u518D\u8BD5\uFF0C\u6216\u53D1\u90AE\u4EF6\u81F3 {email}\u3002","error.invalid":"\u62B1\u6B49\uFF0C\u65E0\u6CD5\u53D1\u9001\uFF1A{reason}\u3002","conversation.restarted":"\u62B1\u6B49\uFF0C\u65E0\u6CD5\u7EE7\u7EED\u4E4B\u524D\u7684\u5BF9\u8BDD\uFF0C\u6211\u5DF2\u5F00\u59CB\u4E00\u4E2A\u65B0\u7684\u5BF9\u8BDD\u3002\u4F60\u7684\u6D88\u606F\u6B63\u5728\u53D1\u9001\u3002","notice.agent_joined":"\u6211\u4EEC\u56E2\u961F\u7684\u4E00\u4F4D\u540C\u4E8B\u5DF2\u52A0\u5165\u5BF9\u8BDD\u3002","notice.agent_left":"\u4F60\u73B0\u5728\u56DE\u5230\u4E86\u52A9\u624B\u8FD9\u91CC\u3002",greeting:"\u4F60\u597D\uFF01\u6B22\u8FCE\u54A8\u8BE2\u4EA7\u54C1\u3001\u8BA2\u5355\u3001\u914D\u9001\u548C\u9000\u8D27\u3002","footer.stop":"\u4E0D\u8981\u518D\u8054\u7CFB\u6211","footer.stop_message":"stop contacting me","image.alt":"\u52A9\u624B\u53D1\u9001\u7684\u56FE\u7247"}};function _e(e){if(typeof e!="string"||!e)return"en";if(Object.prototype.hasOwnProperty.call(Y,e))return e;let t=e.toLowerCase().split(/[-_]/)[0];for(let o of Object.keys(Y))if(o.toLowerCase().split("-")[0]===t)return o;return"en"}function le(e){let t=Y[_e(e)];return function(n,r){let i=Object.prototype.hasOwnProperty.call(t,n)?t[n]:Y.en[n];return typeof i!="string"?n:i.replace(/\{(\w+)\}/g,(c,s)=>r&&Object.prototype.hasOwnProperty.call(r,s)?String(r[s]):c)}}function u(e,t,o,n){let r=e.createElement(t);for(let[i,c]of Object.entries(o||{}))i==="className"?r.className=c:c!=null&&c!==!1&&r.setAttribute(i,c===!0?"":String(c));return n!=null&&(r.textContent=String(n)),r}var Oe={chat:"M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4H4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z",up:"M2 21h4V9H2v12zm20-11a2 2 0 0 0-2-2h-6.3l1-4.6V3a1.5 1.5 0 0 0-.4-1L13.2 1 6.6 7.6A2 2 0 0 0 6 9v10a2 2 0 0 0 2 2h9a2 2 0 0 0 1.8-1.2l3-7.1c.1-.2.2-.5.2-.7v-2z",down:"M22 3h-4v12h4V3zM2 14a2 2 0 0 0 2 2h6.3l-1 4.6V21a1.5 1.5 0 0 0 .4 1l1.1 1 6.6-6.6A2 2 0 0 0 18 15V5a2 2 0 0 0-2-2H7a2 2 0 0 0-1.8 1.2l-3 7.1c-.1.2-.2.5-.2.7v2z",close:"M18.3 5.7 12 12l6.3 6.3-1.4 1.4L10.6 13.4 4.3 19.7 2.9 18.3 9.2 12 2.9 5.7 4.3 4.3l6.3 6.3 6.3-6.3z"};function _(e,t){let o="http://www.w3.org/2000/svg",n=e.createElementNS(o,"svg");n.setAttribute("viewBox","0 0 24 24"),n.setAttribute("aria-hidden","true"),n.setAttribute("focusable","false");let r=e.createElementNS(o,"path");return r.setAttribute("d",Oe[t]),n.appendChild(r),n}var D=0;function Te(e){return e.notice?"speaker.notice":e.role==="user"?"speaker.user":"speaker.bot"}function H(e,t){let{doc:o,t:n}=e,r="concierge-msg "+(t.role==="user"?"concierge-user":"concierge-bot");t.error&&(r+=" concierge-error"),t.notice&&(r+=" concierge-notice"),t.greeting&&(r="concierge-msg concierge-greeting");let i=u(o,"div",{className:r,"data-speaker":n(Te(t))});t.text&&i.appendChild(u(o,"p",{className:"concierge-text"},t.text));let c=t.custom&&typeof t.custom=="object"?t.custom:{},s=oe(c.image,e.origin,e.imageOrigins);return s&&i.appendChild(u(o,"img",{className:"concierge-image",src:s,alt:n("image.alt")})),t.role==="bot"&&!t.greeting&&(je(e,i,t),Le(e,i,t),!t.error&&typeof c.answer_id=="string"&&c.answer_id&&i.appendChild(ue(e,t,c.answer_id))),i}function je(e,t,o){let{doc:n,t:r}=e,i=Array.isArray(o.buttons)?o.buttons:[];if(!i.length)return;let c=u(n,"div",{className:"concierge-buttons",role:"group","aria-label":r("buttons.label")});for(let s of i){if(!s||typeof s.title!="string")continue;let l=u(n,"button",{type:"button",className:"concierge-button"},s.title);l.disabled=!!o.buttonsUsed,o.buttonsUsed&&o.chosen===s.title&&l.classList.add("concierge-chosen"),l.addEventListener("click",()=>{if(e.isBusy()||o.buttonsUsed)return;o.buttonsUsed=!0,o.chosen=s.title,e.save();for(let b of c.querySelectorAll("button"))b.disabled=!0;l.classList.add("concierge-chosen");let d=typeof s.payload=="string"&&s.payload?s.payload:s.title;e.send(d,s.title)}),c.appendChild(l)}t.appendChild(c)}function Le(e,t,o){let{doc:n,t:r}=e,i=[];for(let d of Array.isArray(o.sources)?o.sources:[]){let b=d&&ne(d.location,e.origin);b&&i.push(u(n,"a",{className:"concierge-source",href:b,target:"_blank",rel:"noopener noreferrer"},typeof d.title=="string"&&d.title?d.title:d.location))}if(!i.length)return;D+=1;let c="concierge-sources-"+D,s=u(n,"div",{className:"concierge-sources"});s.appendChild(u(n,"span",{className:"concierge-sources-label",id:c},r("sources.label")));let l=u(n,"ul",{className:"concierge-source-list","aria-labelledby":c});for(let d of i){let b=u(n,"li");b.appendChild(d),l.appendChild(b)}s.appendChild(l),t.appendChild(s)}function ue(e,t,o){let{doc:n,t:r}=e,i=u(n,"div",{className:"concierge-feedback"});if(t.feedback==="up"||t.feedback==="down")return i.appendChild(u(n,"span",{className:"concierge-feedback-thanks"},r("feedback.thanks"))),i;D+=1;let c="concierge-feedback-"+D;i.setAttribute("role","group"),i.setAttribute("aria-labelledby",c),i.appendChild(u(n,"span",{className:"concierge-feedback-label",id:c},r("feedback.label")));let s=u(n,"button",{type:"button",className:"concierge-thumb concierge-thumb-up","aria-label":r("feedback.up")});s.appendChild(_(n,"up"));let l=u(n,"button",{type:"button",className:"concierge-thumb concierge-thumb-down","aria-label":r("feedback.down")});l.appendChild(_(n,"down"));let d=u(n,"span",{className:"concierge-feedback-note"});function b(h){s.disabled=!0,l.disabled=!0,d.textContent="",e.rate(o,h).then(m=>{if(m==="ok"){t.feedback=h,e.save();let g=ue(e,t,o);g.setAttribute("tabindex","-1"),i.replaceWith(g),g.focus(),e.announce(r("feedback.thanks"));return}m==="ended"?d.textContent=r("feedback.ended"):(s.disabled=!1,l.disabled=!1,d.textContent=r("feedback.failed")),e.announce(d.textContent)})}return s.addEventListener("click",()=>b("up")),l.addEventListener("click",()=>b("down")),i.appendChild(s),i.appendChild(l),i.appendChild(d),i}var ze="concierge-widget";function Ie(e,t,o,n,r){let i=e.defaultView;if(i&&"adoptedStyleSheets"in t&&typeof i.CSSStyleSheet=="function")try{let s=new i.CSSStyleSheet;s.replaceSync(o),t.adoptedStyleSheets=[s],r();return}catch{}let c=u(e,"link",{rel:"stylesheet",href:n});c.addEventListener("load",r),c.addEventListener("error",r),setTimeout(r,3e3),t.appendChild(c)}function fe(e,t,o,n,r){let i=u(e,ze,{id:"concierge-root",lang:o.lang});i.style.setProperty("visibility","hidden","important");let c=i.attachShadow({mode:"open"}),s=u(e,"button",{id:"concierge-launcher",type:"button",className:"concierge-launcher","aria-label":t("launcher.open",{title:o.title}),"aria-expanded":"false","aria-controls":"concierge-panel","aria-haspopup":"dialog"});s.appendChild(_(e,"chat"));let l=u(e,"div",{id:"concierge-panel",className:"concierge-panel",role:"dialog","aria-modal":"false","aria-labelledby":"concierge-title","aria-describedby":o.subtitle?"concierge-subtitle":null});l.hidden=!0;let d=u(e,"div",{className:"concierge-header"}),b=u(e,"div",{className:"concierge-titles"}),h=u(e,"div",{id:"concierge-title",className:"concierge-title"},o.title),m=u(e,"div",{id:"concierge-subtitle",className:"concierge-subtitle"},o.subtitle);m.hidden=!o.subtitle,b.append(h,m);let g=u(e,"button",{id:"concierge-close",type:"button",className:"concierge-close","aria-label":t("panel.close")});g.appendChild(_(e,"close")),d.append(b,g);let k=u(e,"div",{id:"concierge-log",className:"concierge-log",role:"log","aria-live":"off","aria-label":t("log.label"),tabindex:"0"}),x=u(e,"div",{id:"concierge-typing",className:"concierge-typing","aria-hidden":"true"});for(let z=0;z<3;z++)x.appendChild(u(e,"span",{className:"concierge-dot"}));x.hidden=!0;let f=u(e,"div",{id:"concierge-announcer",className:"concierge-sr-only",role:"status","aria-live":"polite","aria-atomic":"true"}),T=u(e,"form",{id:"concierge-form",className:"concierge-form",novalidate:!0}),j=u(e,"label",{for:"concierge-input",className:"concierge-sr-only"},t("input.label")),S=u(e,"input",{id:"concierge-input",className:"concierge-input",type:"text",autocomplete:"off",maxlength:"4000",placeholder:t("input.placeholder"),enterkeyhint:"send"}),A=u(e,"button",{id:"concierge-send",className:"concierge-send",type:"submit"},t("send"));T.append(j,S,A);let L=u(e,"div",{className:"concierge-footer"}),y=u(e,"button",{id:"concierge-stop",type:"button",className:"concierge-stop"},t("footer.stop"));return L.appendChild(y),l.append(d,k,x,T,L,f),c.append(l,s),Ie(e,c,n,r,()=>i.style.removeProperty("visibility")),e.body.appendChild(i),{host:i,shadow:c,launcher:s,panel:l,title:h,subtitle:m,close:g,log:k,typing:x,announcer:f,form:T,input:S,send:A,stop:y}}function de(e,t){let o=e.visualViewport;if(!o)return()=>{};let n=()=>{t.style.setProperty("--concierge-vv-height",o.height+"px"),t.style.setProperty("--concierge-vv-top",o.offsetTop+"px")};return n(),o.addEventListener("resize",n),o.addEventListener("scroll",n),()=>{o.removeEventListener("resize",n),o.removeEventListener("scroll",n)}}var v={token:"concierge.token",conversation:"concierge.conversation_id",oldSender:"concierge.sender_id",lastEvent:"concierge.last_event_id",transcript:"concierge.transcript",open:"concierge.open"},pe=/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;function Me(e){try{return e.setItem("concierge.__probe","1"),e.removeItem("concierge.__probe"),e}catch{return null}}function W(e){let t=null;try{t=Me(e())}catch{t=null}let o=new Map;return{get(n){try{if(t)return t.getItem(n)}catch{}return o.has(n)?o.get(n):null},set(n,r){try{if(t){t.setItem(n,r);return}}catch{}o.set(n,r)},remove(n){try{t&&t.removeItem(n)}catch{}o.delete(n)}}}function ge(e){return{token(){let t=e.get(v.token);return t&&pe.test(t)?t:null},keep(t){return t&&typeof t.token=="string"&&pe.test(t.token)?(e.set(v.token,t.token),typeof t.conversation_id=="string"&&e.set(v.conversation,t.conversation_id),!0):!1},forget(){e.remove(v.token),e.remove(v.conversation),e.remove(v.lastEvent)},lastEventId(){let t=e.get(v.lastEvent);return t&&/^[0-9]+$/.test(t)?t:null},markEvent(t){if(typeof t!="string"||!/^[0-9]+$/.test(t))return!0;let o=e.get(v.lastEvent);return o&&/^[0-9]+$/.test(o)&&Number(o)>=Number(t)?!1:(e.set(v.lastEvent,t),!0)}}}var be=200;function Ve(e){return!!e&&typeof e=="object"&&(e.role==="user"||e.role==="bot")&&typeof e.text=="string"}function q(e,t){let o=[];for(let n of Array.isArray(e)?e:[]){if(!n||typeof n!="object")continue;let r=n.custom&&typeof n.custom=="object"&&!Array.isArray(n.custom)?n.custom:{},i={role:"bot",text:typeof n.text=="string"?n.text:"",buttons:(Array.isArray(n.buttons)?n.buttons:[]).filter(c=>c&&typeof c.title=="string"&&c.title.trim()),sources:(Array.isArray(n.sources)?n.sources:[]).filter(c=>c&&typeof c=="object"),custom:r,error:!!t};(i.text||i.buttons.length||i.sources.length||typeof r.image=="string")&&o.push(i)}return o}function O(e,t){return{role:"bot",text:e,buttons:[],sources:[],custom:{},error:t==="error",notice:t==="notice"}}function he(e){let t=[],o=e.get(v.transcript);if(o)try{let r=JSON.parse(o);t=Array.isArray(r)?r.filter(Ve):[]}catch{t=[]}function n(){t.length>be&&(t=t.slice(t.length-be)),e.set(v.transcript,JSON.stringify(t))}return{all:()=>t.slice(),add(r){t.push(r),n()},save:n,clear(){t=[],e.remove(v.transcript)}}}function me(e){let t=e&&e.custom&&typeof e.custom.kind=="string"?e.custom.kind:"",o=[];return e&&e.role==="bot"&&!e.error&&!e.notice&&o.push("answer"),(t==="lead_captured"||t==="lead")&&o.push("lead"),(t==="handoff"||t==="handoff_requested")&&o.push("handoff"),o}var xe={agent_joined:"notice.agent_joined",agent_left:"notice.agent_left"};function ve(e,t,o,n,r){let i=e.document,c=re(o,n),s=le(c.locale),l={title:c.title||s("panel.title"),subtitle:c.subtitle,greeting:c.greeting||s("greeting"),fallback:c.fallback||(c.supportEmail?s("error.fallback_email",{email:c.supportEmail}):s("error.fallback")),lang:c.locale},d=W(()=>e.localStorage),b=W(()=>e.sessionStorage),h=ge(d),m=he(b),g=Q(),k=null,x=!1;d.remove(v.oldSender);let f=fe(i,s,l,r.css,t+"/widget.css"),T=de(e,f.host),j=a=>{f.announcer.textContent="",setTimeout(()=>{f.announcer.textContent=a},50)},S={doc:i,t:s,origin:t,imageOrigins:c.imageOrigins,announce:j,isBusy:()=>x,save:()=>m.save(),send:(a,p)=>R(a,p),rate:(a,p)=>B(t,"/api/feedback",{answer_id:a,rating:p},h.token()).then(w=>w.status===401?"ended":w.ok?"ok":"failed").catch(()=>"failed")};function A(){f.log.scrollTop=f.log.scrollHeight}function L(){!m.all().length&&l.greeting&&f.log.appendChild(H(S,{role:"bot",text:l.greeting,greeting:!0}))}function y(a,p){let w=f.log.querySelector(".concierge-greeting");w&&a.role==="user"&&w.remove(),m.add(a),f.log.appendChild(H(S,a)),A(),!p&&a.role==="bot"&&a.text&&j(s("announce.bot",{text:a.text}));for(let C of me(a))g.emit(C,C==="answer"?{text:a.text}:{kind:a.custom.kind})}function z(){m.clear(),f.log.replaceChildren()}let I=se(t,h,a=>{if(a.event==="message")for(let p of q(a.data&&a.data.messages,!1))y(p);else xe[a.event]&&(y(O(s(xe[a.event]),"notice")),g.emit("handoff",{state:a.event==="agent_joined"?"joined":"returned"}))});function K(a){x=a,f.typing.hidden=!a,f.send.disabled=a,f.panel.setAttribute("aria-busy",a?"true":"false"),a&&(j(s("announce.typing")),A())}function M(){return!f.panel.hidden}function N(a){M()||(f.panel.hidden=!1,f.host.classList.add("concierge-open"),f.launcher.setAttribute("aria-expanded","true"),f.launcher.setAttribute("aria-label",s("launcher.close",{title:l.title})),b.set(v.open,"1"),g.emit("open",{})),A(),(!a||a.focus!==!1)&&f.input.focus()}function V(a){M()&&(f.panel.hidden=!0,f.host.classList.remove("concierge-open"),f.launcher.setAttribute("aria-expanded","false"),f.launcher.setAttribute("aria-label",s("launcher.open",{title:l.title})),b.set(v.open,"0"),g.emit("close",{}),(!a||a.focus!==!1)&&f.launcher.focus())}function $(a){let p={message:a};return k&&(p.metadata={customer:k}),p}function R(a,p){if(x)return;y({role:"user",text:p||a}),g.emit("message",{text:p||a}),K(!0);let w=h.token();B(t,"/api/chat",$(a),w).then(C=>C.status!==401||!w?C:(h.forget(),I.stop(),z(),y(O(s("conversation.restarted"),"notice")),y({role:"user",text:p||a},!0),B(t,"/api/chat",$(a),null))).then(C=>{let P=C.body||{};if(h.keep(P),I.start(),C.ok){q(P.messages,!1).forEach(J=>y(J));return}let F=q(P.messages,!0);F.length?F.forEach(J=>y(J)):C.status===422&&typeof P.error=="string"?y(O(s("error.invalid",{reason:P.error}),"error")):y(O(l.fallback,"error"))}).catch(()=>y(O(l.fallback,"error"))).then(()=>{K(!1),M()&&f.input.focus()})}function ke(){h.forget(),I.stop(),z(),L()}f.launcher.addEventListener("click",()=>M()?V():N()),f.close.addEventListener("click",()=>V()),f.panel.addEventListener("keydown",a=>{(a.key==="Escape"||a.key==="Esc")&&(a.preventDefault(),V())}),f.form.addEventListener("submit",a=>{a.preventDefault();let p=f.input.value.trim();!p||x||(f.input.value="",R(p,null))}),f.stop.addEventListener("click",()=>R(s("footer.stop_message"),null));let G=[];for(let a of i.querySelectorAll("[data-concierge-open]")){let p=w=>{w.preventDefault(),N()};a.addEventListener("click",p),G.push([a,p])}for(let a of m.all())f.log.appendChild(H(S,a));L(),I.start(),b.get(v.open)==="1"&&N({focus:!1});function we(){I.stop(),T();for(let[a,p]of G)a.removeEventListener("click",p);f.host.remove(),g.clear(),delete e.ConciergeWidget,e.Concierge=void 0}let E=Z({open:()=>N(),close:()=>V(),toggle:()=>M()?V():N(),send:a=>{typeof a=="string"&&a.trim()&&(N(),R(a.trim().slice(0,4e3),null))},identify:a=>{k=ee(a)},on:(a,p)=>g.on(a,p),off:(a,p)=>g.off(a,p),reset:ke,shutdown:we});return E.loaded=!0,E.origin=t,e.ConciergeWidget={open:()=>E("open"),close:()=>E("close"),send:a=>E("send",a),reset:()=>E("reset"),origin:t},{command:E,ready:()=>g.emit("ready",{origin:t})}}var ye=`/* Concierge chat widget, inside its shadow root. Sizes are in px so a host page's root font
   size cannot change them; :host resets everything the host page could set on the element. */
:host {
  all: initial !important;
  display: block !important;
  position: fixed !important;
  right: 20px !important;
  bottom: 20px !important;
  z-index: 2147483000 !important;
  visibility: visible !important;
  opacity: 1 !important;
  transform: none !important;
  font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", "PingFang SC", "Microsoft YaHei", sans-serif !important;
  color: #1f1a17 !important;
  text-align: left !important;
  --accent: #9c4a1a;
  --accent-dark: #7a3912;
  --ink: #1f1a17;
  --muted: #5f5650;
  --line: #e0d6cc;
  --bot-bg: #f4efe9;
  --focus: #1f5fbf;
}
*, *::before, *::after { box-sizing: border-box; }
[hidden] { display: none !important; }
button, input { font: inherit; color: inherit; margin: 0; }
p { margin: 0; }

.concierge-sr-only, .concierge-msg::before {
  position: absolute; width: 1px; height: 1px; padding: 0; margin: -1px; overflow: hidden;
  clip: rect(0, 0, 0, 0); white-space: nowrap; border: 0;
}
/* The speaker of each message, for assistive technology only. */
.concierge-msg::before { content: attr(data-speaker) " "; }

.concierge-launcher {
  display: flex; align-items: center; justify-content: center;
  width: 56px; height: 56px; margin-left: auto; padding: 0; border: 0; border-radius: 50%;
  background: var(--accent); color: #fff; cursor: pointer;
  box-shadow: 0 6px 20px rgba(0, 0, 0, .22);
}
.concierge-launcher:hover { background: var(--accent-dark); }
.concierge-launcher svg { width: 26px; height: 26px; fill: currentColor; }
button:focus-visible, input:focus-visible, a:focus-visible, .concierge-log:focus-visible,
[tabindex="-1"]:focus-visible {
  outline: 3px solid var(--focus); outline-offset: 2px;
}
.concierge-header button:focus-visible { outline-color: #fff; }

.concierge-panel {
  display: flex; flex-direction: column; position: relative;
  width: min(384px, calc(100vw - 40px));
  height: min(576px, calc(100vh - 112px));
  height: min(576px, calc(100dvh - 112px));
  margin-bottom: 12px; background: #fff; border: 1px solid var(--line);
  border-radius: 16px; overflow: hidden; box-shadow: 0 12px 40px rgba(0, 0, 0, .25);
}
.concierge-header {
  display: flex; align-items: flex-start; justify-content: space-between; gap: 8px;
  padding: 14px 16px; background: var(--accent); color: #fff;
}
.concierge-title { font-size: 17px; font-weight: 700; color: #fff; }
.concierge-subtitle { margin-top: 2px; font-size: 13px; color: #fff; }
.concierge-close {
  display: inline-flex; align-items: center; justify-content: center; flex: none;
  width: 32px; height: 32px; border: 0; background: transparent; color: #fff;
  cursor: pointer; padding: 0; border-radius: 6px;
}
.concierge-close svg { width: 18px; height: 18px; fill: currentColor; }
.concierge-close:hover { background: var(--accent-dark); }

.concierge-log {
  flex: 1; overflow-y: auto; padding: 16px; display: flex; flex-direction: column; gap: 10px;
  background: #fff; overscroll-behavior: contain;
}
.concierge-msg {
  position: relative; max-width: 88%; padding: 9px 13px; border-radius: 14px;
  overflow-wrap: anywhere;
}
.concierge-text { white-space: pre-wrap; }
.concierge-bot, .concierge-greeting {
  align-self: flex-start; background: var(--bot-bg); color: var(--ink); border-bottom-left-radius: 4px;
}
.concierge-user {
  align-self: flex-end; background: var(--accent); color: #fff; border-bottom-right-radius: 4px;
}
.concierge-notice { background: #fff; border: 1px dashed var(--line); color: var(--muted); }
.concierge-error { background: #fbeaea; color: #6d1f1f; }
.concierge-image { display: block; max-width: 100%; margin-top: 6px; border-radius: 8px; }

.concierge-buttons { display: flex; flex-wrap: wrap; gap: 6px; margin-top: 8px; }
.concierge-button {
  border: 1px solid var(--accent); background: #fff; color: var(--accent);
  border-radius: 999px; padding: 5px 13px; font-size: 14px; cursor: pointer; text-align: left;
}
.concierge-button:hover:not(:disabled) { background: var(--accent); color: #fff; }
.concierge-button:disabled { opacity: .55; cursor: default; }
.concierge-button.concierge-chosen { opacity: 1; background: var(--accent); color: #fff; }

.concierge-sources { margin-top: 8px; font-size: 13px; color: var(--muted); }
.concierge-source-list { margin: 2px 0 0; padding-left: 18px; }
.concierge-source { color: var(--accent-dark); text-decoration: underline; }

.concierge-feedback {
  display: flex; flex-wrap: wrap; align-items: center; gap: 6px; margin-top: 7px; font-size: 13px;
  color: var(--muted);
}
.concierge-thumb {
  display: inline-flex; width: 30px; height: 30px; align-items: center; justify-content: center;
  border: 1px solid #8a7f77; border-radius: 50%; background: #fff; cursor: pointer;
  color: var(--muted); padding: 0;
}
.concierge-thumb:hover:not(:disabled) { color: var(--accent); border-color: var(--accent); }
.concierge-thumb svg { width: 16px; height: 16px; fill: currentColor; }
.concierge-feedback-thanks { color: #2a5f34; }

.concierge-typing { display: flex; gap: 5px; padding: 4px 16px 10px; background: #fff; }
.concierge-dot {
  width: 7px; height: 7px; border-radius: 50%; background: var(--muted);
  animation: concierge-bounce 1.2s infinite ease-in-out;
}
.concierge-dot:nth-child(2) { animation-delay: .15s; }
.concierge-dot:nth-child(3) { animation-delay: .3s; }
@keyframes concierge-bounce {
  0%, 80%, 100% { transform: translateY(0); opacity: .4; }
  40% { transform: translateY(-5px); opacity: 1; }
}
@media (prefers-reduced-motion: reduce) {
  .concierge-dot { animation: none; opacity: .7; }
}

.concierge-form {
  display: flex; gap: 8px; padding: 12px 12px 6px; border-top: 1px solid var(--line); background: #fff;
}
.concierge-input {
  flex: 1; min-width: 0; border: 1px solid #8a7f77; border-radius: 999px;
  padding: 9px 14px; font-size: 16px; color: var(--ink); background: #fff;
}
.concierge-input::placeholder { color: var(--muted); opacity: 1; }
.concierge-send {
  border: 0; border-radius: 999px; padding: 9px 16px; font-weight: 600;
  background: var(--accent); color: #fff; cursor: pointer;
}
.concierge-send:disabled { opacity: .6; cursor: progress; }
.concierge-footer { display: flex; justify-content: flex-end; padding: 0 16px 8px; background: #fff; }
.concierge-stop {
  border: 0; background: transparent; padding: 2px 0; font-size: 12px; color: var(--muted);
  text-decoration: underline; cursor: pointer;
}

/* Phones: the open panel fills the screen, follows the visual viewport (so the on-screen
   keyboard never covers the input) and keeps clear of notches and home indicators. */
@media (max-width: 480px) {
  :host { right: 12px !important; bottom: 12px !important; }
  :host(.concierge-open) { top: 0 !important; right: 0 !important; bottom: auto !important; left: 0 !important; }
  :host(.concierge-open) .concierge-launcher { display: none; }
  :host(.concierge-open) .concierge-panel {
    position: fixed; left: 0; right: 0;
    top: var(--concierge-vv-top, 0px);
    width: 100%;
    height: 100vh;
    height: 100dvh;
    height: var(--concierge-vv-height, 100dvh);
    margin: 0; border: 0; border-radius: 0;
    padding: env(safe-area-inset-top, 0px) env(safe-area-inset-right, 0px) env(safe-area-inset-bottom, 0px) env(safe-area-inset-left, 0px);
    background: var(--accent);
  }
  :host(.concierge-open) .concierge-log, :host(.concierge-open) .concierge-form,
  :host(.concierge-open) .concierge-footer, :host(.concierge-open) .concierge-typing { background: #fff; }
}
`;function Ue(e){let t=e.Concierge;if(typeof t=="function"&&t.loaded)return;let o=t&&t.boot||{},n=t&&Array.isArray(t.q)?t.q:[],r=o.origin||ie(null,null,e.location.href),i=o.data||{};ce(r).then(c=>{let s=()=>{let l=ve(e,r,c,i,{css:ye});e.Concierge=l.command,X(n,l.command),e.performance&&typeof e.performance.mark=="function"&&e.performance.mark("concierge:ready"),l.ready()};e.document.body?s():e.document.addEventListener("DOMContentLoaded",s,{once:!0})})}Ue(window);})();
