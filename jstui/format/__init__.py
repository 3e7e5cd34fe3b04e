"""Pure display and unit helpers: untrusted text made safe, payloads rendered, units parsed.

The lowest layer: no I/O and nothing from Textual, so every other layer may import it.

- `jstui.format.text`: `sanitize`, `sanitize_multiline`, `safe_text`, `headers_lines`,
  `quote_input`: every subject, header, name and server message shown anywhere goes through them.
- `jstui.format.payload`: binary detection, hex dump, pretty JSON, `PayloadView`,
  `render_payload` (detail view) and `payload_preview` (one feed row), built on `text`.
- `jstui.format.units`: durations, sizes and counts, parsed from forms and written back
  (`parse_size` / `size_field`) or shown short (`format_size`); its docstring tells the two apart.

Importers name the module they use (``from jstui.format.text import sanitize``); this package
re-exports nothing, so each name has one home.
"""
