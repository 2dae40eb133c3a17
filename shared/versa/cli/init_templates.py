"""The packs `versa init` writes: one commented pack.yaml per template, with `$brand`, `$name` and
(email-countdown) `$deadline` filled in by `string.Template` (Jinja's `{{ }}` in the packs is left alone).

Each template lays out with containers (so it holds every size and mirrors for Arabic by itself), has
no asset file (the brand mark is drawn with a shape), and validates, lints without errors, renders and
serves as written (tests/functional/test_init.py).
"""

from __future__ import annotations

BANNER = """\
# $name: display banners, made by `versa init $brand --template banner`.
# Edit anything below, then: versa validate $brand && versa lint $brand (docs/PACKS.md explains every field).

brand: $brand              # the brand id: in every URL (/v1/$brand/...) and equal to this folder's name
name: $name                # a display name, for people
locales: [en, ar]          # the first is the default; ar (Arabic) reads right to left
default_tz: UTC            # the zone used when a request carries none

tokens:                    # design tokens: layers name these instead of repeating values
  colors:                  # '#RGB', '#RRGGBB' or '#RRGGBBAA'
    paper: "#fff7ed"
    ink: "#1c1917"
    muted: "#57534e"
    brand: "#c2410c"
    brand_ink: "#ffffff"
  fonts:                   # a default family (sans, sans-bold, noto-sans, ...) or a pack file assets/X.ttf
    display: sans-bold
    body: sans

creatives:                 # each creative is served at /v1/$brand/CREATIVE.png (and @WxH for a size)
  launch:
    description: A launch banner in the common display sizes, English and Arabic.
    # Every size this creative comes in ("WIDTHxHEIGHT"); the first is the default. Boxes are written
    # for the first size; containers lay their children out afresh at each size.
    sizes: [300x250, 728x90, 160x600, 300x600, 970x250, 320x50]
    link: https://example.com/launch           # where a click goes (rules may change it)
    # No `fallback:` file: `versa serve` and `versa publish` draw this creative from its default
    # context at each size and serve that when anything goes wrong. `fallback: assets/x.png` overrides.
    layers:                                    # drawn in order, first at the back
      - {type: background, fill: paper}        # fills the canvas at every size
      - {id: bar, type: shape, box: [0, 244, 300, 6], fill: brand}   # a brand line along the bottom edge
      - id: frame                              # an id lets rules and by_size change a layer
        type: container                        # lays its children out like CSS flexbox
        box: [0, 0, 300, 250]                  # the whole canvas (scaled to every size)
        direction: column                      # row | column: the main axis
        padding: [20, 20, 20, 20]              # top, end, bottom, start: `end`/`start`, never right/left,
        gap: 14                                #   so the layout mirrors for Arabic with nothing rewritten
        align_items: start                     # children hug the start edge (the right one in Arabic)
        justify_content: center                # the column's content centred vertically
        children:                              # children have no box: their container places them
          - id: copy
            type: container
            direction: column
            gap: 6
            flex: {align_self: stretch}        # as wide as the frame allows
            children:
              - id: mark
                type: container
                gap: 8
                align_items: center
                children:
                  # The brand mark, drawn (no image file): replace it with
                  # {type: image, asset: assets/logo.png, flex: {width: 80, height: 24}} once you have one.
                  - {id: dot, type: shape, shape: ellipse, fill: brand, flex: {width: 14, height: 14, shrink: 0}}
                  - {id: wordmark, type: text, text: "$name", font: display, size: 13, max_lines: 1,
                     color: ink, flex: {grow: 1, basis: 0}}
              # A text takes the largest size in [min, max] that fits within max_lines (an ellipsis beyond).
              - {id: headline, type: text, slot: headline, font: display, size: [20, 28], max_lines: 3,
                 color: ink, align: start}
              - {id: subline, type: text, slot: subline, font: body, size: [12, 15], max_lines: 2,
                 color: muted, align: start}
          - {id: cta, type: button, slot: cta, font: display, size: [13, 16], fill: brand, color: brand_ink,
             radius: 8, padding: [16, 8]}
    by_size:                                   # overrides per size or aspect range, applied in order
      - when: {aspect: [3, 10]}                # wide banners (970x250, 728x90, 320x50): one row
        set: {layers.frame.direction: row, layers.frame.align_items: center,
              layers.frame.justify_content: space-between, layers.frame.padding: [12, 28, 12, 28],
              layers.frame.gap: 24, layers.copy.flex: {grow: 1, basis: 0},
              layers.headline.size: [18, 30], layers.headline.max_lines: 2}
      - when: {aspect: [5, 10]}                # strips (728x90, 320x50): no subline
        set: {layers.subline.visible: false, layers.copy.gap: 2, layers.frame.padding: [8, 20, 8, 20],
              layers.headline.size: [16, 24]}
      - when: {size: 320x50}                   # the smallest: the headline and the button only
        set: {layers.mark.visible: false, layers.frame.padding: [4, 10, 4, 10], layers.frame.gap: 8,
              layers.headline.size: [11, 15], layers.cta.size: [10, 12], layers.cta.padding: [10, 5]}
      - when: {aspect: [0.2, 0.79]}            # portrait (160x600, 300x600): more air, bigger type
        set: {layers.frame.padding: [32, 18, 32, 18], layers.frame.gap: 28, layers.copy.gap: 14,
              layers.headline.size: [20, 34], layers.headline.max_lines: 5, layers.subline.max_lines: 4}
    copy:                                      # copy slots: a default per locale (or one string for all)
      headline:
        default: {en: "Meet the new collection", ar: "تعرّف على المجموعة الجديدة"}
      subline:
        default: {en: "Made for every day, built to last.", ar: "مصممة لكل يوم، وتدوم طويلًا."}
      cta:
        default: {en: "Shop now", ar: "تسوّق الآن"}
    rules:                                     # in order; a later rule wins. `versa decide` explains them
      - id: arabic
        when: {country: [AE, SA, EG, QA, KW, JO]}   # the viewer's country (the CDN's geo header)
        set: {lang: ar, link: "https://example.com/ar/launch"}
      # A visitor whose browser prefers Arabic gets `ar` without a rule (Accept-Language). Try:
      #   versa render $brand launch --country AE -o launch-ar.png
"""

EMAIL_COUNTDOWN = """\
# $name: an email header with a countdown, made by `versa init $brand --template email-countdown`.
# Edit anything below, then: versa validate $brand && versa lint $brand (docs/PACKS.md explains every field).

brand: $brand              # the brand id: in every URL (/v1/$brand/...) and equal to this folder's name
name: $name                # a display name, for people
locales: [en, ar]          # the first is the default; ar (Arabic) reads right to left
default_tz: UTC            # the zone used when a request carries none (email proxies carry none)

tokens:
  colors:
    paper: "#f0fdfa"
    ink: "#0f172a"
    muted: "#475569"
    brand: "#0f766e"
    brand_ink: "#ffffff"
    cell: "#134e4a"
  fonts:
    display: sans-bold
    body: sans

creatives:
  sale-ends:
    description: A 600 px wide email header counting down to the end of a sale.
    sizes: [600x300, 600x200]                  # email width; the second is a shorter header
    widths: [600, 1200]                        # ?w=1200 asks for a sharper copy for high-density screens
    link: https://example.com/sale
    # No `fallback:` file: `versa serve` and `versa publish` draw this creative from its default
    # context at each size (the countdown shows its `robust` text). `fallback: assets/x.png` overrides.
    params:                                    # query values the URL may carry; nothing else is read
      # `merge: true`: the email tool fills it per recipient (a template signature covers its name).
      first_name: {type: text, max_len: 24, merge: true, samples: [Ana, Karim],
                   description: "The recipient's first name"}
    layers:
      - {type: background, fill: paper}
      - {id: band, type: shape, box: [0, 0, 600, 8], fill: brand}
      - id: body
        type: container
        box: [0, 8, 600, 292]
        direction: column
        padding: [18, 28, 18, 28]              # top, end, bottom, start (start is the right in Arabic)
        gap: 12
        justify_content: center
        children:
          - id: mark
            type: container
            gap: 8
            align_items: center
            children:
              - {id: dot, type: shape, shape: ellipse, fill: brand, flex: {width: 14, height: 14, shrink: 0}}
              - {id: wordmark, type: text, text: "$name", font: display, size: 14, max_lines: 1, color: ink,
                 flex: {grow: 1, basis: 0}}
          # `comma` is the locale's ("Ana, " in English, "Ana، " in Arabic); nothing without a name.
          - {id: headline, type: text, text: "{{ first_name|comma }}{{ headline }}", font: display,
             size: [22, 36], max_lines: 2, color: ink, align: start}
          - id: deal
            type: container
            align_items: center
            justify_content: space-between     # the timer at the start, the button at the end
            gap: 16
            children:
              # The countdown measures itself from its font size and labels; its cells read days
              # first, so in Arabic days are at the right. A PNG shows it as it stands; a GIF ticks.
              - id: timer
                type: countdown
                deadline: "$deadline"          # ISO date-time with its UTC offset
                font: display
                size: [24, 40]
                color: brand_ink
                fill: cell
                label_color: paper
                units: [days, hours, minutes, seconds]
                labels:                        # per locale; a label may give one form per plural category
                  en:
                    days: {one: day, other: days}
                    hours: {one: hr, other: hrs}
                    minutes: {one: min, other: min}
                    seconds: {one: sec, other: sec}
                  ar:                          # Arabic has six plural forms (CLDR)
                    days: {zero: يوم, one: يوم, two: يومان, few: أيام, many: يومًا, other: يوم}
                    hours: {zero: ساعة, one: ساعة, two: ساعتان, few: ساعات, many: ساعة, other: ساعة}
                    minutes: {zero: دقيقة, one: دقيقة, two: دقيقتان, few: دقائق, many: دقيقة, other: دقيقة}
                    seconds: {zero: ثانية, one: ثانية, two: ثانيتان, few: ثوانٍ, many: ثانية, other: ثانية}
                digits: {ar: native}           # Arabic-Indic digits for Arabic readers
                ended: {en: "The sale has ended", ar: "انتهى التخفيض"}
                # For Apple Mail's privacy prefetch (and the drawn fallback): true whenever it is seen.
                robust: {en: "Ends {deadline}", ar: "ينتهي {deadline}"}
              - {id: cta, type: button, slot: cta, font: display, size: [14, 18], fill: brand, color: brand_ink,
                 radius: 10, padding: [22, 10]}
    by_size:
      - when: {size: 600x200}                  # the short header: no brand row, one line of headline
        set: {layers.mark.visible: false, layers.body.padding: [10, 24, 10, 24], layers.body.gap: 10,
              layers.headline.size: [18, 24], layers.headline.max_lines: 1, layers.timer.size: [16, 26]}
    copy:
      headline:
        default: {en: "Our sale ends soon", ar: "التخفيضات تنتهي قريبًا"}
      cta:
        default: {en: "Shop the sale", ar: "تسوّق العروض"}
    rules:
      - id: arabic
        when: {country: [AE, SA, EG, QA, KW, JO]}
        set: {lang: ar, link: "https://example.com/ar/sale"}
      # An email tool can also send ?lang=ar in a signed URL: versa sign '/v1/$brand/sale-ends.png?lang=ar'
"""

SOCIAL = """\
# $name: social images, made by `versa init $brand --template social`.
# Edit anything below, then: versa validate $brand && versa lint $brand (docs/PACKS.md explains every field).

brand: $brand              # the brand id: in every URL (/v1/$brand/...) and equal to this folder's name
name: $name
locales: [en, es, ar]      # the first is the default; ar (Arabic) reads right to left
default_tz: UTC

tokens:
  colors:
    top: "#312e81"
    bottom: "#7c3aed"
    ink: "#ffffff"
    soft: "#e0e7ff"
    accent: "#fde047"
    accent_ink: "#1e1b4b"
  fonts:
    display: sans-bold
    body: sans

creatives:
  post:
    description: One post for a square feed, a link preview and a story.
    sizes: [1080x1080, 1200x628, 1080x1920]    # square feed post, link preview card, story
    link: https://example.com/
    # No `fallback:` file: `versa serve` and `versa publish` draw this creative from its default
    # context at each size. `fallback: assets/x.png` overrides.
    layers:
      # A gradient: an angle (180 runs top to bottom) and colour stops.
      - {type: background, gradient: {angle: 160, stops: [top, bottom]}}
      - id: frame
        type: container
        box: [0, 0, 1080, 1080]
        direction: column
        padding: [96, 96, 96, 96]              # top, end, bottom, start
        gap: 40
        align_items: start                     # the start edge: the left in English, the right in Arabic
        justify_content: center
        children:
          - id: mark
            type: container
            gap: 20
            align_items: center
            flex: {align_self: stretch}
            children:
              - {id: dot, type: shape, shape: ellipse, fill: accent, flex: {width: 44, height: 44, shrink: 0}}
              - {id: wordmark, type: text, text: "$name", font: display, size: 40, max_lines: 1, color: ink,
                 flex: {grow: 1, basis: 0}}
          - id: copy                           # the headline and its subline stay together
            type: container
            direction: column
            gap: 28
            flex: {align_self: stretch}
            children:
              - {id: headline, type: text, slot: headline, font: display, size: [72, 128], max_lines: 4,
                 color: ink, line_height: 1.1, align: start}
              - {id: subline, type: text, slot: subline, font: body, size: [36, 48], max_lines: 3, color: soft,
                 align: start}
          - {id: cta, type: button, slot: cta, font: display, size: [36, 44], fill: accent, color: accent_ink,
             radius: 28, padding: [48, 22]}
    by_size:
      - when: {size: 1200x628}                 # the link card: wide and short
        set: {layers.frame.padding: [56, 80, 56, 80], layers.frame.gap: 28, layers.mark.gap: 14,
              layers.dot.flex: {width: 32, height: 32, shrink: 0}, layers.wordmark.size: 30,
              layers.copy.gap: 16, layers.headline.size: [56, 80], layers.headline.max_lines: 2,
              layers.subline.size: [28, 34], layers.subline.max_lines: 1, layers.cta.size: [28, 34]}
      - when: {size: 1080x1920}                # the story: the mark at the top, the button at the bottom
        set: {layers.frame.padding: [180, 96, 240, 96], layers.frame.justify_content: space-between,
              layers.copy.gap: 40, layers.headline.size: [96, 144], layers.headline.max_lines: 5,
              layers.subline.size: [40, 56], layers.subline.max_lines: 4}
    copy:
      headline:
        default: {en: "Big news is here", es: "Llegan grandes noticias", ar: "الخبر الكبير وصل"}
      subline:
        default: {en: "See what's new this season.", es: "Descubre las novedades de la temporada.",
                  ar: "اكتشف الجديد هذا الموسم."}
      cta:
        default: {en: "Learn more", es: "Más información", ar: "اعرف المزيد"}
    rules:
      - id: spanish
        when: {country: [ES, MX, AR, CO, CL, PE]}
        set: {lang: es, link: "https://example.com/es/"}
      - id: arabic
        when: {country: [AE, SA, EG, QA, KW, JO]}
        set: {lang: ar, link: "https://example.com/ar/"}
"""

TEMPLATES: dict[str, str] = {"banner": BANNER, "email-countdown": EMAIL_COUNTDOWN, "social": SOCIAL}
"""Template name -> pack.yaml text (a `string.Template`)."""

CREATIVE_OF: dict[str, str] = {"banner": "launch", "email-countdown": "sale-ends", "social": "post"}
"""The creative each template's pack holds (for the next steps `versa init` prints)."""
