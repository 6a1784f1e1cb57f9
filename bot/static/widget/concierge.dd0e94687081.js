(()=>{var Ee=["ready","open","close","message","answer","lead","handoff"];function Z(){let e=new Map;return{on(t,n){return Ee.indexOf(t)<0||typeof n!="function"?!1:(e.has(t)||e.set(t,[]),e.get(t).push(n),!0)},off(t,n){let o=e.get(t)||[],r=o.indexOf(n);r>=0&&o.splice(r,1)},emit(t,n){for(let o of(e.get(t)||[]).slice())try{o(n)}catch(r){typeof console<"u"&&console.error("Concierge: an event listener failed",r)}},clear(){e.clear()}}}function X(e){return function(n,...o){let r=typeof n=="string"&&Object.prototype.hasOwnProperty.call(e,n)?e[n]:null;if(!r){typeof console<"u"&&console.warn("Concierge: unknown command",n);return}try{return r(...o)}catch(i){typeof console<"u"&&console.error("Concierge: command failed",n,i);return}}}function ee(e,t){let n=Array.isArray(e)?e.splice(0,e.length):[];for(let o of n)o&&typeof o.length=="number"&&t(...Array.prototype.slice.call(o))}function te(e){if(!e||typeof e!="object")return null;let t={};return typeof e.email=="string"&&/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(e.email.trim())&&e.email.length<=254&&(t.email=e.email.trim()),typeof e.name=="string"&&e.name.trim()&&e.name.length<=200&&(t.name=e.name.trim()),t.email||t.name?t:null}function W(e,t){try{return new URL(e,t)}catch{return null}}function ne(e,t,n){if(typeof e!="string"||!e)return null;let o=W(e,t+"/");if(!o||o.protocol!=="https:"&&o.protocol!=="http:")return null;if(o.origin===t)return o.href;let r=Array.isArray(n)?n:[];return o.protocol==="https:"&&r.indexOf(o.origin)>=0?o.href:null}function oe(e,t){if(typeof e!="string"||!e)return null;let n=W(e,t+"/");return n&&(n.origin===t||n.protocol==="https:")?n.href:null}function re(e,t){if(typeof e!="string"||!e||/^[a-z][a-z0-9+.-]*:/i.test(e)||e.charAt(0)==="/"||e.charAt(0)==="\\")return null;let n=e.indexOf("#"),o=n>=0?e.slice(0,n):e,r=n>=0?e.slice(n+1):"";if(o.split("/").some(a=>a===".."||a==="."))return null;let i=o.split("/").map(encodeURIComponent).join("/");return t+"/sources/"+i+(r?"#"+encodeURI(r):"")}function U(e,t){let n=typeof e=="string"&&e?W(e,t):null;return n&&(n.protocol==="https:"||n.protocol==="http:")?n.origin:null}function ie(e,t){let n=e&&typeof e=="object"?e:{},o=t||{},r=(a,s)=>{if(typeof o[a]=="string"&&o[a].trim())return o[a].trim();let l=n[s||a];return typeof l=="string"?l:""},i=(Array.isArray(n.image_origins)?n.image_origins:[]).map(a=>U(a)).filter(Boolean);return{title:r("title"),subtitle:r("subtitle"),greeting:r("greeting"),fallback:r("fallback"),supportEmail:typeof n.support_email=="string"?n.support_email:"",locale:r("locale")||"en",imageOrigins:i}}function ae(e,t,n){return U(t,n)||U(e,n)||U(n)||""}function Se(e){let t={event:"message",id:null,data:[]};for(let n of e.split(`
`)){if(!n||n.charAt(0)===":")continue;let o=n.indexOf(":"),r=o>=0?n.slice(0,o):n,i=o>=0?n.slice(o+1).replace(/^ /,""):"";r==="data"?t.data.push(i):r==="event"?t.event=i:r==="id"&&(t.id=i)}if(!t.data.length)return null;try{return{event:t.event,id:t.id,data:JSON.parse(t.data.join(`
`))}}catch{return null}}function ce(e){let t="";return function(o){t+=o.replace(/\r\n?/g,`
`);let r=t.indexOf(`

`);for(;r>=0;){let i=Se(t.slice(0,r));t=t.slice(r+2),i&&e(i),r=t.indexOf(`

`)}}}var Ae=2e4,Ne=3e3,_e=3e3;function R(e,t,n,o,r=globalThis.fetch){let i=typeof AbortController=="function"?new AbortController:null,a=i?setTimeout(()=>i.abort(),Ae):null,s={"Content-Type":"application/json"};return o&&(s.Authorization="Bearer "+o),r(e+t,{method:"POST",headers:s,body:JSON.stringify(n),signal:i?i.signal:void 0,credentials:"omit",mode:"cors"}).then(l=>l.json().catch(()=>null).then(d=>({ok:l.ok,status:l.status,body:d}))).finally(()=>{a&&clearTimeout(a)})}function se(e,t=globalThis.fetch){return new Promise(n=>{let o=setTimeout(()=>n(null),Ne);t(e+"/api/widget/config",{headers:{Accept:"application/json"},credentials:"omit",mode:"cors"}).then(r=>r.ok?r.json():null).then(r=>n(r&&typeof r=="object"?r:null)).catch(()=>n(null)).finally(()=>clearTimeout(o))})}function le(e,t,n,o=globalThis.fetch){let r=null,i=null;function a(){i&&(clearTimeout(i),i=null),r&&(r.abort(),r=null)}function s(){i||(i=setTimeout(()=>{i=null,b()},_e))}function l(h){t.markEvent(h.id)&&n(h)}function d(h){let m=new TextDecoder,g=ce(l);function k(){return h.read().then(x=>{if(!x.done)return g(m.decode(x.value,{stream:!0})),k()})}return k()}function b(){let h=t.token();if(!h||r||typeof AbortController!="function"||typeof TextDecoder!="function")return;let m=new AbortController;r=m;let g={Accept:"text/event-stream",Authorization:"Bearer "+h},k=t.lastEventId();k&&(g["Last-Event-ID"]=k),o(e+"/api/chat/events",{headers:g,signal:m.signal,credentials:"omit",mode:"cors"}).then(x=>x.status===401?"refused":!x.ok||!x.body?"retry":d(x.body.getReader()).then(()=>"retry")).catch(()=>m.signal.aborted?"stopped":"retry").then(x=>{r===m&&(r=null),x==="retry"&&!m.signal.aborted&&s()})}return{start:b,stop:a}}var B={en:{"launcher.open":"Open chat: {title}","launcher.close":"Close chat: {title}","panel.close":"Close chat","panel.title":"Concierge","log.label":"Conversation","speaker.user":"You said:","speaker.bot":"Assistant said:","speaker.notice":"Notice:","announce.bot":"Assistant: {text}","announce.typing":"The assistant is typing\u2026","input.label":"Your message","input.placeholder":"Type your question\u2026",send:"Send","buttons.label":"Suggested replies","sources.label":"Sources","feedback.label":"Was this helpful?","feedback.up":"Yes, this was helpful","feedback.down":"No, this was not helpful","feedback.thanks":"Thanks for your feedback!","feedback.ended":"Sorry, this conversation has ended, so feedback can't be saved.","feedback.failed":"Sorry, that didn't go through. Please try again.","error.fallback":"Sorry, I'm having trouble right now. Please try again in a minute.","error.fallback_email":"Sorry, I'm having trouble right now. Please try again in a minute, or email {email}.","error.invalid":"Sorry, I couldn't send that: {reason}.","conversation.restarted":"Sorry, we couldn't continue our earlier conversation, so I've started a new one. Your message is on its way.","notice.agent_joined":"A person from our team has joined the conversation.","notice.agent_left":"You're back with the assistant.",greeting:"Hi! Ask me about products, orders, shipping and returns.","footer.stop":"Stop contacting me","footer.stop_message":"stop contacting me","image.alt":"Image from the assistant","quote.open":"Open quote {number}"},"zh-CN":{"launcher.open":"\u6253\u5F00\u804A\u5929\uFF1A{title}","launcher.close":"\u5173\u95ED\u804A\u5929\uFF1A{title}","panel.close":"\u5173\u95ED\u804A\u5929","panel.title":"Concierge","log.label":"\u5BF9\u8BDD","speaker.user":"\u4F60\u8BF4\uFF1A","speaker.bot":"\u52A9\u624B\u8BF4\uFF1A","speaker.notice":"\u63D0\u793A\uFF1A","announce.bot":"\u52A9\u624B\uFF1A{text}","announce.typing":"\u52A9\u624B\u6B63\u5728\u8F93\u5165\u2026","input.label":"\u4F60\u7684\u6D88\u606F","input.placeholder":"\u8F93\u5165\u4F60\u7684\u95EE\u9898\u2026",send:"\u53D1\u9001","buttons.label":"\u5EFA\u8BAE\u7684\u56DE\u590D","sources.label":"\u6765\u6E90","feedback.label":"\u8FD9\u4E2A\u56DE\u7B54\u6709\u5E2E\u52A9\u5417\uFF1F","feedback.up":"\u662F\u7684\uFF0C\u6709\u5E2E\u52A9","feedback.down":"\u4E0D\uFF0C\u6CA1\u6709\u5E2E\u52A9","feedback.thanks":"\u611F\u8C22\u4F60\u7684\u53CD\u9988\uFF01","feedback.ended":"\u62B1\u6B49\uFF0C\u6B64\u5BF9\u8BDD\u5DF2\u7ED3\u675F\uFF0C\u65E0\u6CD5\u4FDD\u5B58\u53CD\u9988\u3002","feedback.failed":"\u62B1\u6B49\uFF0C\u63D0\u4EA4\u5931\u8D25\uFF0C\u8BF7\u518D\u8BD5\u4E00\u6B21\u3002","error.fallback":"\u62B1\u6B49\uFF0C\u6211\u73B0\u5728\u9047\u5230\u4E86\u95EE\u9898\uFF0C\u8BF7\u7A0D\u540E\u518D\u8BD5\u3002","error.fallback_email":"\u62B1\u6B49\uFF0C\u6211\u73B0\u5728\u9047\u5230\u4E86\u95EE\u9898\uFF0C\u8BF7\u7A0D\u540E\u518D\u8BD5\uFF0C\u6216\u53D1\u90AE\u4EF6\u81F3 {email}\u3002","error.invalid":"\u62B1\u6B49\uFF0C\u65E0\u6CD5\u53D1\u9001\uFF1A{reason}\u3002","conversation.restarted":"\u62B1\u6B49\uFF0C\u65E0\u6CD5\u7EE7\u7EED\u4E4B\u524D\u7684\u5BF9\u8BDD\uFF0C\u6211\u5DF2\u5F00\u59CB\u4E00\u4E2A\u65B0\u7684\u5BF9\u8BDD\u3002\u4F60\u7684\u6D88\u606F\u6B63\u5728\u53D1\u9001\u3002","notice.agent_joined":"\u6211\u4EEC\u56E2\u961F\u7684\u4E00\u4F4D\u540C\u4E8B\u5DF2\u52A0\u5165\u5BF9\u8BDD\u3002","notice.agent_left":"\u4F60\u73B0\u5728\u56DE\u5230\u4E86\u52A9\u624B\u8FD9\u91CC\u3002",greeting:"\u4F60\u597D\uFF01\u6B22\u8FCE\u54A8\u8BE2\u4EA7\u54C1\u3001\u8BA2\u5355\u3001\u914D\u9001\u548C\u9000\u8D27\u3002","footer.stop":"\u4E0D\u8981\u518D\u8054\u7CFB\u6211","footer.stop_message":"stop contacting me","image.alt":"\u52A9\u624B\u53D1\u9001\u7684\u56FE\u7247","quote.open":"\u6253\u5F00\u62A5\u4EF7\u5355 {number}"}};function Oe(e){if(typeof e!="string"||!e)return"en";if(Object.prototype.hasOwnProperty.call(B,e))return e;let t=e.toLowerCase().split(/[-_]/)[0];for(let n of Object.keys(B))if(n.toLowerCase().split("-")[0]===t)return n;return"en"}function ue(e){let t=B[Oe(e)];return function(o,r){let i=Object.prototype.hasOwnProperty.call(t,o)?t[o]:B.en[o];return typeof i!="string"?o:i.replace(/\{(\w+)\}/g,(a,s)=>r&&Object.prototype.hasOwnProperty.call(r,s)?String(r[s]):a)}}function u(e,t,n,o){let r=e.createElement(t);for(let[i,a]of Object.entries(n||{}))i==="className"?r.className=a:a!=null&&a!==!1&&r.setAttribute(i,a===!0?"":String(a));return o!=null&&(r.textContent=String(o)),r}var Te={chat:"M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4H4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z",up:"M2 21h4V9H2v12zm20-11a2 2 0 0 0-2-2h-6.3l1-4.6V3a1.5 1.5 0 0 0-.4-1L13.2 1 6.6 7.6A2 2 0 0 0 6 9v10a2 2 0 0 0 2 2h9a2 2 0 0 0 1.8-1.2l3-7.1c.1-.2.2-.5.2-.7v-2z",down:"M22 3h-4v12h4V3zM2 14a2 2 0 0 0 2 2h6.3l-1 4.6V21a1.5 1.5 0 0 0 .4 1l1.1 1 6.6-6.6A2 2 0 0 0 18 15V5a2 2 0 0 0-2-2H7a2 2 0 0 0-1.8 1.2l-3 7.1c-.1.2-.2.5-.2.7v2z",close:"M18.3 5.7 12 12l6.3 6.3-1.4 1.4L10.6 13.4 4.3 19.7 2.9 18.3 9.2 12 2.9 5.7 4.3 4.3l6.3 6.3 6.3-6.3z"};function _(e,t){let n="http://www.w3.org/2000/svg",o=e.createElementNS(n,"svg");o.setAttribute("viewBox","0 0 24 24"),o.setAttribute("aria-hidden","true"),o.setAttribute("focusable","false");let r=e.createElementNS(n,"path");return r.setAttribute("d",Te[t]),o.appendChild(r),o}var Y=0;function Le(e){return e.notice?"speaker.notice":e.role==="user"?"speaker.user":"speaker.bot"}function D(e,t){let{doc:n,t:o}=e,r="concierge-msg "+(t.role==="user"?"concierge-user":"concierge-bot");t.error&&(r+=" concierge-error"),t.notice&&(r+=" concierge-notice"),t.greeting&&(r="concierge-msg concierge-greeting");let i=u(n,"div",{className:r,"data-speaker":o(Le(t))});t.text&&i.appendChild(u(n,"p",{className:"concierge-text"},t.text));let a=t.custom&&typeof t.custom=="object"?t.custom:{},s=ne(a.image,e.origin,e.imageOrigins);s&&i.appendChild(u(n,"img",{className:"concierge-image",src:s,alt:o("image.alt")}));let l=a.kind==="quote"?oe(a.url,e.origin):null;if(l){let d=typeof a.number=="string"?a.number:"";i.appendChild(u(n,"a",{className:"concierge-quote-link",href:l,target:"_blank",rel:"noopener noreferrer"},o("quote.open",{number:d})))}return t.role==="bot"&&!t.greeting&&(je(e,i,t),ze(e,i,t),!t.error&&typeof a.answer_id=="string"&&a.answer_id&&i.appendChild(fe(e,t,a.answer_id))),i}function je(e,t,n){let{doc:o,t:r}=e,i=Array.isArray(n.buttons)?n.buttons:[];if(!i.length)return;let a=u(o,"div",{className:"concierge-buttons",role:"group","aria-label":r("buttons.label")});for(let s of i){if(!s||typeof s.title!="string")continue;let l=u(o,"button",{type:"button",className:"concierge-button"},s.title);l.disabled=!!n.buttonsUsed,n.buttonsUsed&&n.chosen===s.title&&l.classList.add("concierge-chosen"),l.addEventListener("click",()=>{if(e.isBusy()||n.buttonsUsed)return;n.buttonsUsed=!0,n.chosen=s.title,e.save();for(let b of a.querySelectorAll("button"))b.disabled=!0;l.classList.add("concierge-chosen");let d=typeof s.payload=="string"&&s.payload?s.payload:s.title;e.send(d,s.title)}),a.appendChild(l)}t.appendChild(a)}function ze(e,t,n){let{doc:o,t:r}=e,i=[];for(let d of Array.isArray(n.sources)?n.sources:[]){let b=d&&re(d.location,e.origin);b&&i.push(u(o,"a",{className:"concierge-source",href:b,target:"_blank",rel:"noopener noreferrer"},typeof d.title=="string"&&d.title?d.title:d.location))}if(!i.length)return;Y+=1;let a="concierge-sources-"+Y,s=u(o,"div",{className:"concierge-sources"});s.appendChild(u(o,"span",{className:"concierge-sources-label",id:a},r("sources.label")));let l=u(o,"ul",{className:"concierge-source-list","aria-labelledby":a});for(let d of i){let b=u(o,"li");b.appendChild(d),l.appendChild(b)}s.appendChild(l),t.appendChild(s)}function fe(e,t,n){let{doc:o,t:r}=e,i=u(o,"div",{className:"concierge-feedback"});if(t.feedback==="up"||t.feedback==="down")return i.appendChild(u(o,"span",{className:"concierge-feedback-thanks"},r("feedback.thanks"))),i;Y+=1;let a="concierge-feedback-"+Y;i.setAttribute("role","group"),i.setAttribute("aria-labelledby",a),i.appendChild(u(o,"span",{className:"concierge-feedback-label",id:a},r("feedback.label")));let s=u(o,"button",{type:"button",className:"concierge-thumb concierge-thumb-up","aria-label":r("feedback.up")});s.appendChild(_(o,"up"));let l=u(o,"button",{type:"button",className:"concierge-thumb concierge-thumb-down","aria-label":r("feedback.down")});l.appendChild(_(o,"down"));let d=u(o,"span",{className:"concierge-feedback-note"});function b(h){s.disabled=!0,l.disabled=!0,d.textContent="",e.rate(n,h).then(m=>{if(m==="ok"){t.feedback=h,e.save();let g=fe(e,t,n);g.setAttribute("tabindex","-1"),i.replaceWith(g),g.focus(),e.announce(r("feedback.thanks"));return}m==="ended"?d.textContent=r("feedback.ended"):(s.disabled=!1,l.disabled=!1,d.textContent=r("feedback.failed")),e.announce(d.textContent)})}return s.addEventListener("click",()=>b("up")),l.addEventListener("click",()=>b("down")),i.appendChild(s),i.appendChild(l),i.appendChild(d),i}var Ie="concierge-widget";function Me(e,t,n,o,r){let i=e.defaultView;if(i&&"adoptedStyleSheets"in t&&typeof i.CSSStyleSheet=="function")try{let s=new i.CSSStyleSheet;s.replaceSync(n),t.adoptedStyleSheets=[s],r();return}catch{}let a=u(e,"link",{rel:"stylesheet",href:o});a.addEventListener("load",r),a.addEventListener("error",r),setTimeout(r,3e3),t.appendChild(a)}function de(e,t,n,o,r){let i=u(e,Ie,{id:"concierge-root",lang:n.lang});i.style.setProperty("visibility","hidden","important");let a=i.attachShadow({mode:"open"}),s=u(e,"button",{id:"concierge-launcher",type:"button",className:"concierge-launcher","aria-label":t("launcher.open",{title:n.title}),"aria-expanded":"false","aria-controls":"concierge-panel","aria-haspopup":"dialog"});s.appendChild(_(e,"chat"));let l=u(e,"div",{id:"concierge-panel",className:"concierge-panel",role:"dialog","aria-modal":"false","aria-labelledby":"concierge-title","aria-describedby":n.subtitle?"concierge-subtitle":null});l.hidden=!0;let d=u(e,"div",{className:"concierge-header"}),b=u(e,"div",{className:"concierge-titles"}),h=u(e,"div",{id:"concierge-title",className:"concierge-title"},n.title),m=u(e,"div",{id:"concierge-subtitle",className:"concierge-subtitle"},n.subtitle);m.hidden=!n.subtitle,b.append(h,m);let g=u(e,"button",{id:"concierge-close",type:"button",className:"concierge-close","aria-label":t("panel.close")});g.appendChild(_(e,"close")),d.append(b,g);let k=u(e,"div",{id:"concierge-log",className:"concierge-log",role:"log","aria-live":"off","aria-label":t("log.label"),tabindex:"0"}),x=u(e,"div",{id:"concierge-typing",className:"concierge-typing","aria-hidden":"true"});for(let z=0;z<3;z++)x.appendChild(u(e,"span",{className:"concierge-dot"}));x.hidden=!0;let f=u(e,"div",{id:"concierge-announcer",className:"concierge-sr-only",role:"status","aria-live":"polite","aria-atomic":"true"}),T=u(e,"form",{id:"concierge-form",className:"concierge-form",novalidate:!0}),L=u(e,"label",{for:"concierge-input",className:"concierge-sr-only"},t("input.label")),S=u(e,"input",{id:"concierge-input",className:"concierge-input",type:"text",autocomplete:"off",maxlength:"4000",placeholder:t("input.placeholder"),enterkeyhint:"send"}),A=u(e,"button",{id:"concierge-send",className:"concierge-send",type:"submit"},t("send"));T.append(L,S,A);let j=u(e,"div",{className:"concierge-footer"}),y=u(e,"button",{id:"concierge-stop",type:"button",className:"concierge-stop"},t("footer.stop"));return j.appendChild(y),l.append(d,k,x,T,j,f),a.append(l,s),Me(e,a,o,r,()=>i.style.removeProperty("visibility")),e.body.appendChild(i),{host:i,shadow:a,launcher:s,panel:l,title:h,subtitle:m,close:g,log:k,typing:x,announcer:f,form:T,input:S,send:A,stop:y}}function pe(e,t){let n=e.visualViewport;if(!n)return()=>{};let o=()=>{t.style.setProperty("--concierge-vv-height",n.height+"px"),t.style.setProperty("--concierge-vv-top",n.offsetTop+"px")};return o(),n.addEventListener("resize",o),n.addEventListener("scroll",o),()=>{n.removeEventListener("resize",o),n.removeEventListener("scroll",o)}}var v={token:"concierge.token",conversation:"concierge.conversation_id",oldSender:"concierge.sender_id",lastEvent:"concierge.last_event_id",transcript:"concierge.transcript",open:"concierge.open"},ge=/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;function Ve(e){try{return e.setItem("concierge.__probe","1"),e.removeItem("concierge.__probe"),e}catch{return null}}function K(e){let t=null;try{t=Ve(e())}catch{t=null}let n=new Map;return{get(o){try{if(t)return t.getItem(o)}catch{}return n.has(o)?n.get(o):null},set(o,r){try{if(t){t.setItem(o,r);return}}catch{}n.set(o,r)},remove(o){try{t&&t.removeItem(o)}catch{}n.delete(o)}}}function be(e){return{token(){let t=e.get(v.token);return t&&ge.test(t)?t:null},keep(t){return t&&typeof t.token=="string"&&ge.test(t.token)?(e.set(v.token,t.token),typeof t.conversation_id=="string"&&e.set(v.conversation,t.conversation_id),!0):!1},forget(){e.remove(v.token),e.remove(v.conversation),e.remove(v.lastEvent)},lastEventId(){let t=e.get(v.lastEvent);return t&&/^[0-9]+$/.test(t)?t:null},markEvent(t){if(typeof t!="string"||!/^[0-9]+$/.test(t))return!0;let n=e.get(v.lastEvent);return n&&/^[0-9]+$/.test(n)&&Number(n)>=Number(t)?!1:(e.set(v.lastEvent,t),!0)}}}var he=200;function Pe(e){return!!e&&typeof e=="object"&&(e.role==="user"||e.role==="bot")&&typeof e.text=="string"}function H(e,t){let n=[];for(let o of Array.isArray(e)?e:[]){if(!o||typeof o!="object")continue;let r=o.custom&&typeof o.custom=="object"&&!Array.isArray(o.custom)?o.custom:{},i={role:"bot",text:typeof o.text=="string"?o.text:"",buttons:(Array.isArray(o.buttons)?o.buttons:[]).filter(a=>a&&typeof a.title=="string"&&a.title.trim()),sources:(Array.isArray(o.sources)?o.sources:[]).filter(a=>a&&typeof a=="object"),custom:r,error:!!t};(i.text||i.buttons.length||i.sources.length||typeof r.image=="string")&&n.push(i)}return n}function O(e,t){return{role:"bot",text:e,buttons:[],sources:[],custom:{},error:t==="error",notice:t==="notice"}}function me(e){let t=[],n=e.get(v.transcript);if(n)try{let r=JSON.parse(n);t=Array.isArray(r)?r.filter(Pe):[]}catch{t=[]}function o(){t.length>he&&(t=t.slice(t.length-he)),e.set(v.transcript,JSON.stringify(t))}return{all:()=>t.slice(),add(r){t.push(r),o()},save:o,clear(){t=[],e.remove(v.transcript)}}}function xe(e){let t=e&&e.custom&&typeof e.custom.kind=="string"?e.custom.kind:"",n=[];return e&&e.role==="bot"&&!e.error&&!e.notice&&n.push("answer"),(t==="lead_captured"||t==="lead")&&n.push("lead"),(t==="handoff"||t==="handoff_requested"||t==="handoff_unavailable")&&n.push("handoff"),n}var ve={agent_joined:"notice.agent_joined",agent_left:"notice.agent_left"};function ye(e,t,n,o,r){let i=e.document,a=ie(n,o),s=ue(a.locale),l={title:a.title||s("panel.title"),subtitle:a.subtitle,greeting:a.greeting||s("greeting"),fallback:a.fallback||(a.supportEmail?s("error.fallback_email",{email:a.supportEmail}):s("error.fallback")),lang:a.locale},d=K(()=>e.localStorage),b=K(()=>e.sessionStorage),h=be(d),m=me(b),g=Z(),k=null,x=!1;d.remove(v.oldSender);let f=de(i,s,l,r.css,t+"/widget.css"),T=pe(e,f.host),L=c=>{f.announcer.textContent="",setTimeout(()=>{f.announcer.textContent=c},50)},S={doc:i,t:s,origin:t,imageOrigins:a.imageOrigins,announce:L,isBusy:()=>x,save:()=>m.save(),send:(c,p)=>q(c,p),rate:(c,p)=>R(t,"/api/feedback",{answer_id:c,rating:p},h.token()).then(w=>w.status===401?"ended":w.ok?"ok":"failed").catch(()=>"failed")};function A(){f.log.scrollTop=f.log.scrollHeight}function j(){!m.all().length&&l.greeting&&f.log.appendChild(D(S,{role:"bot",text:l.greeting,greeting:!0}))}function y(c,p){let w=f.log.querySelector(".concierge-greeting");w&&c.role==="user"&&w.remove(),m.add(c),f.log.appendChild(D(S,c)),A(),!p&&c.role==="bot"&&c.text&&L(s("announce.bot",{text:c.text}));for(let C of xe(c))g.emit(C,C==="answer"?{text:c.text}:{kind:c.custom.kind})}function z(){m.clear(),f.log.replaceChildren()}let I=le(t,h,c=>{if(c.event==="message")for(let p of H(c.data&&c.data.messages,!1))y(p);else ve[c.event]&&(y(O(s(ve[c.event]),"notice")),g.emit("handoff",{state:c.event==="agent_joined"?"joined":"returned"}))});function $(c){x=c,f.typing.hidden=!c,f.send.disabled=c,f.panel.setAttribute("aria-busy",c?"true":"false"),c&&(L(s("announce.typing")),A())}function M(){return!f.panel.hidden}function N(c){M()||(f.panel.hidden=!1,f.host.classList.add("concierge-open"),f.launcher.setAttribute("aria-expanded","true"),f.launcher.setAttribute("aria-label",s("launcher.close",{title:l.title})),b.set(v.open,"1"),g.emit("open",{})),A(),(!c||c.focus!==!1)&&f.input.focus()}function V(c){M()&&(f.panel.hidden=!0,f.host.classList.remove("concierge-open"),f.launcher.setAttribute("aria-expanded","false"),f.launcher.setAttribute("aria-label",s("launcher.open",{title:l.title})),b.set(v.open,"0"),g.emit("close",{}),(!c||c.focus!==!1)&&f.launcher.focus())}function G(c){let p={message:c};return k&&(p.metadata={customer:k}),p}function q(c,p){if(x)return;y({role:"user",text:p||c}),g.emit("message",{text:p||c}),$(!0);let w=h.token();R(t,"/api/chat",G(c),w).then(C=>C.status!==401||!w?C:(h.forget(),I.stop(),z(),y(O(s("conversation.restarted"),"notice")),y({role:"user",text:p||c},!0),R(t,"/api/chat",G(c),null))).then(C=>{let P=C.body||{};if(h.keep(P),I.start(),C.ok){H(P.messages,!1).forEach(J=>y(J));return}let Q=H(P.messages,!0);Q.length?Q.forEach(J=>y(J)):C.status===422&&typeof P.error=="string"?y(O(s("error.invalid",{reason:P.error}),"error")):y(O(l.fallback,"error"))}).catch(()=>y(O(l.fallback,"error"))).then(()=>{$(!1),M()&&f.input.focus()})}function we(){h.forget(),I.stop(),z(),j()}f.launcher.addEventListener("click",()=>M()?V():N()),f.close.addEventListener("click",()=>V()),f.panel.addEventListener("keydown",c=>{(c.key==="Escape"||c.key==="Esc")&&(c.preventDefault(),V())}),f.form.addEventListener("submit",c=>{c.preventDefault();let p=f.input.value.trim();!p||x||(f.input.value="",q(p,null))}),f.stop.addEventListener("click",()=>q(s("footer.stop_message"),null));let F=[];for(let c of i.querySelectorAll("[data-concierge-open]")){let p=w=>{w.preventDefault(),N()};c.addEventListener("click",p),F.push([c,p])}for(let c of m.all())f.log.appendChild(D(S,c));j(),I.start(),b.get(v.open)==="1"&&N({focus:!1});function Ce(){I.stop(),T();for(let[c,p]of F)c.removeEventListener("click",p);f.host.remove(),g.clear(),delete e.ConciergeWidget,e.Concierge=void 0}let E=X({open:()=>N(),close:()=>V(),toggle:()=>M()?V():N(),send:c=>{typeof c=="string"&&c.trim()&&(N(),q(c.trim().slice(0,4e3),null))},identify:c=>{k=te(c)},on:(c,p)=>g.on(c,p),off:(c,p)=>g.off(c,p),reset:we,shutdown:Ce});return E.loaded=!0,E.origin=t,e.ConciergeWidget={open:()=>E("open"),close:()=>E("close"),send:c=>E("send",c),reset:()=>E("reset"),origin:t},{command:E,ready:()=>g.emit("ready",{origin:t})}}var ke=`/* Concierge chat widget, inside its shadow root. Sizes are in px so a host page's root font
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
.concierge-quote-link { display: inline-block; margin-top: 6px; color: var(--accent-dark); font-weight: 600; text-decoration: underline; }
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
`;function qe(e){let t=e.Concierge;if(typeof t=="function"&&t.loaded)return;let n=t&&t.boot||{},o=t&&Array.isArray(t.q)?t.q:[],r=n.origin||ae(null,null,e.location.href),i=n.data||{};se(r).then(a=>{let s=()=>{let l=ye(e,r,a,i,{css:ke});e.Concierge=l.command,ee(o,l.command),e.performance&&typeof e.performance.mark=="function"&&e.performance.mark("concierge:ready"),l.ready()};e.document.body?s():e.document.addEventListener("DOMContentLoaded",s,{once:!0})})}qe(window);})();
