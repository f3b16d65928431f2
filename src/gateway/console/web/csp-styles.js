// Lets xterm.js colour text under the console's CSP. Its DOM renderer writes 24-bit colours and
// contrast fixes as style="" attributes (setAttribute('style', …)); the CSP has no
// 'unsafe-inline' for styles, so Chromium would refuse each one (and report it as a console
// error), while the same declarations set through the CSSOM (element.style) are not inline styles
// and apply. (xterm's <style> elements get the page's nonce in boot.js.)
//
// Guarantees (once installed, page-wide): setAttribute('style', css) on an element that has a
// CSSOM style sets element.style.cssText instead, which has the same effect; getAttribute('style')
// still reads it back. Every other attribute, and elements without .style, are untouched.

let installed = false

/** Installs the shim (idempotent). */
export function installCspSafeStyleAttributes() {
  if (installed) return
  installed = true
  const setAttribute = Element.prototype.setAttribute
  Element.prototype.setAttribute = function (name, value) {
    if (typeof name === 'string' && name.toLowerCase() === 'style' && this instanceof HTMLElement) {
      this.style.cssText = String(value)
      return
    }
    setAttribute.call(this, name, value)
  }
}
