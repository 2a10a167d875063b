"""The demo's one figure: a diagram of the four groups of medicines in the heart failure article,
drawn with Pillow when the seed runs (no image file is copied from anywhere). The seed uploads it
into the article's draft and shows it from the body before `before`, so it is reviewed, approved
and published with the text, and readers see it with its alt text."""

from __future__ import annotations

import io

from PIL import Image, ImageDraw, ImageFont

FIGURE = {
    "article": "heart-failure-medicines",
    "slug": "four-groups",
    "before": 'Diuretics ("water tablets")',
    "alt": "Diagram: four columns side by side, labelled ACE inhibitor or ARNI, beta-blocker, mineralocorticoid "
           "receptor antagonist (MRA) and SGLT2 inhibitor, holding up a roof labelled heart failure with reduced "
           "ejection fraction.",
    "caption": "The four groups of medicines that improve survival, taken together unless there is a reason not to.",
    "credit": "Drawn for the Imprimatur demo; CC0 1.0.",
}

PILLARS = ["ACE inhibitor\nor ARNI", "Beta-blocker", "MRA", "SGLT2\ninhibitor"]
WIDTH, HEIGHT = 1200, 640
INK, FILL, PAPER = "#1b3a4b", "#d8ecf3", "white"


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=size)  # Pillow's own scalable font: nothing to install


def figure_png() -> bytes:
    """The diagram as PNG bytes (the same bytes at every run, so a re-seed finds the stored file)."""
    image = Image.new("RGB", (WIDTH, HEIGHT), PAPER)
    draw = ImageDraw.Draw(image)
    draw.polygon([(60, 170), (WIDTH // 2, 40), (WIDTH - 60, 170)], fill=INK)
    draw.text((WIDTH // 2, 135), "Heart failure with reduced ejection fraction", fill=PAPER, font=_font(34),
              anchor="mm")
    column, gap = 230, (WIDTH - 120 - 4 * 230) // 3
    for i, label in enumerate(PILLARS):
        left = 60 + i * (column + gap)
        draw.rectangle([left, 190, left + column, 560], fill=FILL, outline=INK, width=4)
        draw.multiline_text((left + column // 2, 375), label, fill=INK, font=_font(32), anchor="mm", align="center",
                            spacing=10)
    draw.rectangle([40, 570, WIDTH - 40, 610], fill=INK)
    out = io.BytesIO()
    image.save(out, "PNG", optimize=True)
    return out.getvalue()
