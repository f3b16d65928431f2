// The console's entry module. xterm.js (the server page's console) creates <style> elements at
// run time and has no nonce option; the page's CSP allows inline styles only with the nonce of
// this response (page.ts), so every <style> element created from here on gets it. Then the app.
const nonce = document.querySelector('meta[name="zlh-style-nonce"]')?.getAttribute('content') ?? ''
const createElement = document.createElement.bind(document)
document.createElement = (tagName, options) => {
  const el = createElement(tagName, options)
  if (nonce && String(tagName).toLowerCase() === 'style') el.nonce = nonce
  return el
}

import('./app.js').catch((err) => {
  const root = document.getElementById('app')
  if (root) root.textContent = `The console could not start: ${err?.message ?? err}`
})
