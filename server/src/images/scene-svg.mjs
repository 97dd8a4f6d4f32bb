// Writes a scene (scene.mjs) as SVG; PNGs of styled codes are this SVG rasterised by resvg.

/** A coordinate with at most three decimals (a thousandth of a module), without trailing zeros. */
export function number(value) {
  return String(Math.round(value * 1000) / 1000);
}

/** Path commands as SVG path data. */
export function pathData(commands) {
  return commands.map(([op, ...args]) => op + args.map(number).join(' ')).join('');
}

/** The logo as a data: URI (PNG bytes or sanitised SVG text), which an SVG <image> shows without fetching anything. */
export function logoUri(logo) {
  return `data:${logo.contentType};base64,${Buffer.from(logo.bytes).toString('base64')}`;
}

/** The scene as an SVG document `pixelWidth` wide (the height follows the scene's proportions). */
export function sceneToSvg(scene, pixelWidth, logo) {
  const pixelHeight = Math.round((pixelWidth * scene.height) / scene.width);
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="${pixelWidth}" height="${pixelHeight}" viewBox="0 0 ${number(scene.width)} ${number(scene.height)}">`,
  ];
  for (const item of scene.items) {
    if (item.kind === 'logo') {
      if (!logo) continue;
      parts.push(`<image x="${number(item.x)}" y="${number(item.y)}" width="${number(item.size)}" height="${number(item.size)}" preserveAspectRatio="xMidYMid meet" xlink:href="${logoUri(logo)}"/>`);
    } else if (item.commands.length > 0) {
      const rule = item.rule === 'evenodd' ? ' fill-rule="evenodd"' : '';
      const crisp = item.crisp ? ' shape-rendering="crispEdges"' : '';
      parts.push(`<path fill="${item.color}"${rule}${crisp} d="${pathData(item.commands)}"/>`);
    }
  }
  parts.push('</svg>\n');
  return parts.join('');
}
