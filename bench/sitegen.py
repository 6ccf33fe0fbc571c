"""A generated French news site for the crawl benchmarks, served by nginx on 127.0.0.1.

`generate(folder, pages, base)` writes N article pages shaped like a WordPress news
theme (head with Open Graph, `article:*` meta and JSON-LD; inline CSS and scripts;
header navigation and mega-menu; sidebar of most-read and latest articles; share
widgets, author box and related posts; a long footer) around 400–1,500 words of
generated French text (bench/corpus.py), about 100–130 KB a page as real outlets
serve. Plus a homepage, section pages with pagination, an RSS feed declared in the
homepage, and robots.txt → sitemap index → post sitemaps of 1,000 URLs each.

`Nginx` runs Debian's nginx as a child process with a generated configuration
(installing the package with apt when it is missing): one worker, sendfile, no
access log — a few percent of one core at the crawl's rate, so the server is never
what a benchmark measures.
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import common
import numpy as np
from corpus import FrenchText

SECTIONS = [
    ("politique", "Politique"),
    ("economie", "Économie"),
    ("diplomatie", "Diplomatie"),
    ("societe", "Société"),
    ("culture", "Culture"),
    ("sport", "Sport"),
    ("energie", "Énergie"),
    ("region", "Région"),
]
AUTHORS = [
    "Claire Dumas",
    "Mehmet Yılmaz",
    "Sophie Laurent",
    "Ayşe Demir",
    "Julien Moreau",
    "Élodie Garnier",
    "Can Aksoy",
    "Rédaction",
]
PER_LISTING = 20
PER_SITEMAP = 1000
SITE_NAME = "Le Bosphore Quotidien"
FORMAT_VERSION = 5  # bump when the pages change, so cached sites are rebuilt


def slugify(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", folded.lower()).strip("-")[:70]


@dataclass
class Item:
    id: int
    path: str  # /2024/05/07/slug/
    title: str
    published: datetime
    section: int
    author: str
    excerpt: str


def _css(rng: np.random.Generator) -> str:
    """A theme's inline stylesheet: ~25 KB of plausible rules."""
    props = [
        "margin:0 auto",
        "padding:.5rem 1rem",
        "display:flex",
        "font-size:1.125rem",
        "line-height:1.6",
        "color:#1a1a1a",
        "background:#fff",
        "border-bottom:1px solid #e5e5e5",
        "text-decoration:none",
        "font-weight:700",
        "grid-template-columns:repeat(3,1fr)",
        "transition:opacity .2s ease-in-out",
    ]
    rules = []
    for i in range(260):
        name = f".wp-block-{['group', 'columns', 'post', 'nav', 'cover', 'query'][i % 6]}-{i}"
        chosen = rng.choice(props, size=3, replace=False)
        rules.append(f"{name} .el-{i % 37}{{{';'.join(chosen)}}}")
    return "\n".join(rules)


def _script(rng: np.random.Generator, index: int) -> str:
    """Analytics, ads and theme configuration, as inline scripts bloat real pages."""
    config = {
        f"slot_{i}": {
            "id": f"div-gpt-ad-{int(rng.integers(10**12, 10**13))}-{i}",
            "sizes": [[300, 250], [728, 90], [970, 250]],
            "targeting": {"pos": f"p{i}", "section": SECTIONS[i % len(SECTIONS)][0]},
        }
        for i in range(40)
    }
    return (
        f"window.__theme{index} = window.__theme{index} || {{}};"
        f"(function(w,d){{var c={json.dumps(config)};"
        "for(var k in c){if(c.hasOwnProperty(k)){w.googletag&&w.googletag.cmd.push("
        "function(){});}}})(window,document);"
    )


SVG = (
    '<svg class="icon icon-{name}" aria-hidden="true" viewBox="0 0 24 24" width="24" height="24">'
    '<path d="M12 2C6.48 2 2 6.48 2 12s4.48 10 10 10 10-4.48 10-10S17.52 2 12 2zm0 18c-4.41 '
    "0-8-3.59-8-8s3.59-8 8-8 8 3.59 8 8-3.59 8-8 8zm-1-13h2v6h-2zm0 8h2v2h-2z M4.5 4.5l15 15"
    'M19.5 4.5l-15 15"/></svg>'
)


class SiteWriter:
    def __init__(self, folder: Path, pages: int, base: str, seed: int = 7):
        self.folder = folder
        self.base = base.rstrip("/")
        self.text = FrenchText(seed=seed)
        self.rng = np.random.default_rng(seed)
        newest = datetime(2024, 6, 30, 18, 0, tzinfo=UTC)
        self.items: list[Item] = []
        for i in range(pages):
            # Newest first, ~10 articles a day, at irregular times.
            published = newest - timedelta(minutes=int(i * 144 + self.rng.integers(0, 120)))
            article = self.text.article(words=40)  # title and excerpt only, for listings
            slug = f"{slugify(article.title)}-{i + 1}"
            self.items.append(
                Item(
                    id=i + 1,
                    path=published.strftime("/%Y/%m/%d/") + slug + "/",
                    title=article.title,
                    published=published,
                    section=int(self.rng.integers(0, len(SECTIONS))),
                    author=AUTHORS[int(self.rng.integers(0, len(AUTHORS)))],
                    excerpt=" ".join(article.paragraphs)[:220],
                )
            )
        # A consent manager's vendor list and a markets widget: hundreds of elements
        # and no links, as real pages carry (they weigh on parsing, not on discovery).
        self.consent = (
            '<div class="cmp-vendors"><ul>'
            + "".join(
                f'<li class="cmp-vendor"><label><input type="checkbox" name="v{n}" checked>'
                f'<span class="cmp-name">Partenaire publicitaire {n}</span></label>'
                f'<span class="cmp-purposes"><i>Mesure</i><i>Publicité</i></span></li>'
                for n in range(70)
            )
            + "</ul></div>"
        )
        self.markets = (
            '<table class="markets"><tbody>'
            + "".join(
                f"<tr><td>{pair}</td><td>{float(self.rng.uniform(1, 40)):.2f}</td>"
                f'<td class="var">{float(self.rng.uniform(-2, 2)):+.2f} %</td></tr>'
                for pair in ["EUR/TRY", "USD/TRY", "GBP/TRY", "BIST 100", "Or", "Brent", "Gaz"] * 3
            )
            + "</tbody></table>"
        )
        self.css = _css(self.rng)
        self.scripts = [_script(self.rng, i) for i in range(3)]

    # -- page parts --------------------------------------------------------------

    def _link(self, item: Item) -> str:
        return f'<a href="{item.path}">{html.escape(item.title)}</a>'

    def _card(self, item: Item, excerpt: bool = False) -> str:
        """A teaser as news themes nest them: thumbnail, section, headline, date."""
        slug, name = SECTIONS[item.section]
        text = (
            f'<div class="card-excerpt"><p>{html.escape(item.excerpt)}</p></div>' if excerpt else ""
        )
        return (
            f'<div class="card post-{item.id}"><div class="card-inner"><div class="card-thumb">'
            f'<a href="{item.path}" tabindex="-1"><picture><source type="image/webp" '
            f'srcset="/img/{item.id}-300.webp 300w"><img src="/img/{item.id}-300.jpg" '
            f'width="300" height="169" alt="" loading="lazy"></picture></a></div>'
            f'<div class="card-body"><div class="card-meta"><span class="card-cat">'
            f'<a href="/categorie/{slug}/">{name}</a></span><span class="sep">·</span>'
            f'<time datetime="{item.published.isoformat()}">{item.published:%d/%m/%Y}</time>'
            f'</div><h3 class="card-title">{self._link(item)}</h3>{text}</div></div></div>'
        )

    def _head(self, title: str, canonical: str, extra: str = "") -> str:
        scripts = "".join(f"<script>{s}</script>" for s in self.scripts)
        return (
            '<!DOCTYPE html>\n<html lang="fr-FR">\n<head>\n<meta charset="UTF-8">\n'
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{html.escape(title)} – {SITE_NAME}</title>\n"
            f'<link rel="canonical" href="{canonical}">\n'
            f'<link rel="alternate" type="application/rss+xml" title="{SITE_NAME} » Flux" '
            f'href="{self.base}/feed/">\n'
            f'<meta property="og:site_name" content="{SITE_NAME}">\n'
            f'<meta property="og:locale" content="fr_FR">\n{extra}'
            f'<style id="theme-inline-css">{self.css}</style>\n{scripts}\n</head>\n'
        )

    def _header(self) -> str:
        nav = "".join(
            f'<li class="menu-item"><a href="/categorie/{slug}/">{name}</a><ul class="sub-menu">'
            + "".join(
                f'<li class="menu-item menu-item-type-taxonomy"><a href="/categorie/{slug}/'
                f'?theme={j}"><span class="menu-text">{name} {j}</span></a></li>'
                for j in range(4)
            )
            + "</ul></li>"
            for slug, name in SECTIONS
        )
        ticker = "".join(f"<li>{self._link(item)}</li>" for item in self.items[:5])
        icons = "".join(SVG.format(name=n) for n in ("search", "menu", "facebook", "x", "rss"))
        return (
            f'<body class="wp-singular"><div id="page" class="site"><header id="masthead">'
            f'<div class="site-branding"><a href="/" rel="home">{SITE_NAME}</a>'
            f'<p class="site-description">L’actualité de la Turquie et de sa région</p></div>'
            f'<div class="header-icons">{icons}</div>'
            f'<nav id="site-navigation" class="main-navigation"><ul class="menu">{nav}</ul></nav>'
            f'<div class="breaking-news"><span>À la une</span><ul>{ticker}</ul></div>'
            "</header>"
        )

    def _sidebar(self, around: int) -> str:
        start = (around * 7) % max(1, len(self.items) - 20)
        popular = "".join(
            f'<li><span class="rank">{n + 1}</span>{self._card(item)}</li>'
            for n, item in enumerate(self.items[start : start + 10])
        )
        latest = "".join(f"<li>{self._card(item)}</li>" for item in self.items[:10])
        return (
            '<aside id="secondary" class="widget-area">'
            f'<section class="widget widget_popular"><h2 class="widget-title">Les plus lus</h2>'
            f"<ol>{popular}</ol></section>"
            '<section class="widget widget_newsletter"><h2 class="widget-title">Newsletter</h2>'
            "<p>Recevez chaque matin l’essentiel de l’actualité turque dans votre boîte.</p>"
            '<form action="/newsletter/" method="post"><input type="email" name="email" '
            'placeholder="Votre adresse e-mail"><button>S’inscrire</button></form></section>'
            '<section class="widget widget_ad"><div id="div-gpt-ad-sidebar-1" '
            'style="min-height:250px"></div></section>'
            f'<section class="widget widget_recent"><h2 class="widget-title">Dernières '
            f"actualités</h2><ul>{latest}</ul></section></aside>"
        )

    def _footer(self) -> str:
        columns = "".join(
            f'<div class="footer-col"><h3>{name}</h3><ul>'
            + "".join(
                f'<li><a href="/categorie/{slug}/page/{j}/">{name}, page {j}</a></li>'
                for j in range(2, 5)
            )
            + "</ul></div>"
            for slug, name in SECTIONS
        )
        legal = (
            "<p>© 2024 Le Bosphore Quotidien. Tous droits réservés. La reproduction, même "
            "partielle, des contenus publiés sur ce site est interdite sans autorisation. "
            "Les informations recueillies font l’objet d’un traitement destiné à la gestion "
            "des abonnements; conformément au règlement général sur la protection des "
            "données, vous disposez d’un droit d’accès et de rectification.</p>"
        )
        links = "".join(
            f'<li><a href="/{p}/">{t}</a></li>'
            for p, t in [
                ("a-propos", "À propos"),
                ("contact", "Contact"),
                ("mentions-legales", "Mentions légales"),
                ("confidentialite", "Politique de confidentialité"),
                ("publicite", "Publicité"),
            ]
        )
        return (
            f'<footer id="colophon" class="site-footer"><div class="footer-widgets">{columns}'
            f'</div><nav class="footer-navigation"><ul>{links}</ul></nav>{legal}</footer>'
            '<div id="cookie-notice" role="dialog"><p>Nous utilisons des cookies pour mesurer '
            "l’audience et vous proposer des contenus adaptés.</p><button>Accepter</button>"
            f"<button>Refuser</button>{self.consent}</div>{self.markets}</div></body></html>"
        )

    # -- pages ---------------------------------------------------------------------

    def article_page(self, item: Item) -> str:
        article = self.text.article()
        section_slug, section_name = SECTIONS[item.section]
        url = self.base + item.path
        iso = item.published.isoformat()
        graph = {
            "@context": "https://schema.org",
            "@type": "NewsArticle",
            "headline": item.title,
            "datePublished": iso,
            "dateModified": iso,
            "author": [{"@type": "Person", "name": item.author}],
            "publisher": {"@type": "Organization", "name": SITE_NAME},
            "mainEntityOfPage": url,
            "articleSection": section_name,
            "inLanguage": "fr-FR",
            "wordCount": article.words,
        }
        meta = (
            '<meta property="og:type" content="article">\n'
            f'<meta property="og:title" content="{html.escape(item.title)}">\n'
            f'<meta property="og:url" content="{url}">\n'
            f'<meta property="article:published_time" content="{iso}">\n'
            f'<meta property="article:section" content="{section_name}">\n'
            f'<meta name="author" content="{item.author}">\n'
            f'<script type="application/ld+json">{json.dumps(graph, ensure_ascii=False)}'
            "</script>\n"
        )
        body = self._body(article.paragraphs, item)
        related = "".join(
            f'<li class="related-post">{self._card(other, excerpt=True)}</li>'
            for other in self.items[item.id : item.id + 6]
        )
        comments = "".join(
            f'<li class="comment depth-1"><article class="comment-body"><footer '
            f'class="comment-meta"><div class="comment-author vcard"><img class="avatar" '
            f'src="/img/avatar-{n}.png" width="48" height="48" alt=""><b class="fn">Lecteur {n}'
            f'</b></div><div class="comment-metadata"><time>{item.published:%d/%m/%Y}</time>'
            f'</div></footer><div class="comment-content"><p>{html.escape(other.excerpt[:120])}'
            f'</p></div><div class="reply"><a class="comment-reply-link" href="#respond">'
            f"Répondre</a></div></article></li>"
            for n, other in enumerate(self.items[item.id : item.id + int(self.rng.integers(0, 6))])
        )
        share = "".join(
            f'<li class="share-{n}"><a rel="nofollow" href="https://{n}.example/share?u={url}">'
            f"{SVG.format(name=n)}<span>{n}</span></a></li>"
            for n in ("facebook", "x", "whatsapp", "linkedin", "email")
        )
        return (
            self._head(item.title, url, meta)
            + self._header()
            + '<div id="content" class="site-content"><main id="main" class="site-main">'
            + '<nav class="breadcrumbs"><a href="/">Accueil</a> » <a href="/categorie/'
            + f'{section_slug}/">{section_name}</a></nav>'
            + f'<article class="post type-post category-{section_slug}"><header '
            + f'class="entry-header"><h1 class="entry-title">{html.escape(item.title)}</h1>'
            + f'<div class="entry-meta">Publié le <time datetime="{iso}">'
            + f"{item.published:%d/%m/%Y à %H:%M}</time> par "
            + f'<span class="author">{item.author}</span></div></header>'
            + f'<div class="entry-content">{body}</div>'
            + f'<div class="sharedaddy"><h3>Partagez.</h3><ul>{share}</ul></div>'
            + '<div class="author-box"><h4>À propos de l’auteur</h4><p>Journaliste au '
            + f"{SITE_NAME}, spécialiste de la politique intérieure.</p></div></article>"
            + f'<section class="related-posts"><h2>À lire aussi</h2><ul>{related}</ul></section>'
            + f'<div id="comments" class="comments-area"><ol class="comment-list">{comments}</ol>'
            + '<div id="respond" class="comment-respond"><form><textarea name="comment">'
            + "</textarea><button>Publier</button></form></div></div>"
            + "</main>"
            + self._sidebar(item.id)
            + "</div>"
            + self._footer()
        )

    def _body(self, paragraphs: list[str], item: Item) -> str:
        """Paragraphs with what editors add: a subheading, a linked word, a photo, a quote."""
        parts = []
        for n, paragraph in enumerate(paragraphs):
            text = html.escape(paragraph)
            if n % 3 == 1 and text.count(" ") > 4:
                words = text.split(" ")
                at = len(words) // 2
                other = self.items[(item.id + n) % len(self.items)]
                words[at] = f'<a href="{other.path}">{words[at]}</a>'
                words[1] = f"<strong>{words[1]}</strong>"
                text = " ".join(words)
            parts.append(f"<p>{text}</p>")
            if n == 3:
                parts.append(
                    f'<figure class="wp-block-image size-large"><img src="/img/{item.id}-1024.jpg"'
                    ' width="1024" height="576" alt=""><figcaption>Photo d’illustration.'
                    "</figcaption></figure>"
                )
            if n % 5 == 4:
                parts.append(f"<h2>{html.escape(paragraph.split('.')[0][:60])}</h2>")
        return "".join(parts)

    def listing_page(self, title: str, items: list[Item], canonical: str, nav: str) -> str:
        cards = "".join(
            f'<article class="card"><h2>{self._link(item)}</h2><time>'
            f"{item.published:%d/%m/%Y}</time><p>{html.escape(item.excerpt)}</p></article>"
            for item in items
        )
        return (
            self._head(title, canonical, '<meta property="og:type" content="website">\n')
            + self._header()
            + f'<div id="content"><main id="main"><h1>{html.escape(title)}</h1>{cards}'
            + f'<nav class="pagination">{nav}</nav></main>'
            + self._sidebar(0)
            + "</div>"
            + self._footer()
        )

    # -- writing -------------------------------------------------------------------

    def write(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        for item in self.items:
            self._put(item.path + "index.html", self.article_page(item))
        self._put("/index.html", self.listing_page(SITE_NAME, self.items[:30], self.base + "/", ""))
        for index, (slug, name) in enumerate(SECTIONS):
            items = [item for item in self.items if item.section == index]
            pages = max(1, -(-len(items) // PER_LISTING))
            for page in range(1, pages + 1):
                path = f"/categorie/{slug}/" + (f"page/{page}/" if page > 1 else "")
                nav = f'<a class="next" href="/categorie/{slug}/page/{page + 1}/">Suivant</a>'
                chunk = items[(page - 1) * PER_LISTING : page * PER_LISTING]
                self._put(
                    path + "index.html",
                    self.listing_page(name, chunk, self.base + path, nav if page < pages else ""),
                )
        self._put("/feed/index.html", self.feed())
        sitemaps = []
        for start in range(0, len(self.items), PER_SITEMAP):
            name = f"post-sitemap{start // PER_SITEMAP + 1}.xml"
            sitemaps.append(name)
            urls = "".join(
                f"<url><loc>{self.base}{item.path}</loc>"
                f"<lastmod>{item.published.isoformat()}</lastmod></url>"
                for item in self.items[start : start + PER_SITEMAP]
            )
            self._put(
                "/" + name,
                '<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns='
                f'"http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>\n',
            )
        index = "".join(f"<sitemap><loc>{self.base}/{name}</loc></sitemap>" for name in sitemaps)
        self._put(
            "/sitemap_index.xml",
            '<?xml version="1.0" encoding="UTF-8"?>\n<sitemapindex xmlns='
            f'"http://www.sitemaps.org/schemas/sitemap/0.9">{index}</sitemapindex>\n',
        )
        self._put(
            "/robots.txt",
            f"User-agent: *\nDisallow: /wp-admin/\nSitemap: {self.base}/sitemap_index.xml\n",
        )

    def feed(self) -> str:
        entries = "".join(
            f"<item><title>{html.escape(item.title)}</title><link>{self.base}{item.path}</link>"
            f"<pubDate>{item.published:%a, %d %b %Y %H:%M:%S +0000}</pubDate>"
            f"<description>{html.escape(item.excerpt)}</description></item>"
            for item in self.items[:50]
        )
        return (
            '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0"><channel>'
            f"<title>{SITE_NAME}</title><link>{self.base}/</link>{entries}</channel></rss>\n"
        )

    def _put(self, path: str, text: str) -> None:
        target = self.folder / path.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")


def generate(folder: Path, pages: int, base: str, seed: int = 7) -> Path:
    """The site for (pages, base, seed) in folder, generated once and reused after."""
    stamp = folder / ".complete"
    key = json.dumps({"pages": pages, "base": base, "seed": seed, "format": FORMAT_VERSION})
    if stamp.exists() and stamp.read_text() == key:
        return folder
    shutil.rmtree(folder, ignore_errors=True)
    SiteWriter(folder, pages, base, seed).write()
    stamp.write_text(key)
    return folder


def article_files(folder: Path) -> list[Path]:
    """The article pages of a generated site (/YYYY/MM/DD/slug/index.html)."""
    return sorted(folder.glob("[0-9][0-9][0-9][0-9]/*/*/*/index.html"))


# -- nginx -----------------------------------------------------------------------------

NGINX_CONF = """
daemon off;
worker_processes 1;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    include {mime_types};
    default_type application/octet-stream;
    charset utf-8;
    charset_types text/xml application/rss+xml text/plain;
    types {{ application/rss+xml rss; }}
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 100000;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    server {{
        listen 127.0.0.1:{port};
        root {root};
        index index.html;
        location = /feed/ {{ default_type application/rss+xml; types {{ }} }}
    }}
}}
"""


def ensure_nginx() -> str:
    """Path of the nginx binary; installs Debian's package when it is missing."""
    found = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else "")
    if found:
        return found
    print("Installing nginx (apt-get install -y nginx-light or nginx)...", flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=False, env=env)
    subprocess.run(
        ["apt-get", "install", "-y", "-qq", "--no-install-recommends", "nginx"],
        check=True,
        env=env,
    )
    return shutil.which("nginx") or "/usr/sbin/nginx"


class Nginx:
    """nginx serving a folder on 127.0.0.1:port, as a child process of this one."""

    def __init__(self, root: Path, port: int):
        self.root, self.port = root.resolve(), port
        self.tmp = Path(tempfile.mkdtemp(prefix="veille-nginx-"))
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> Nginx:
        binary = ensure_nginx()
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", self.port)) == 0:
                # Whatever answers there is not the site we are about to serve.
                raise RuntimeError(f"127.0.0.1:{self.port} is already in use; pick another --port")
        places = ("/etc/nginx/mime.types", "/usr/share/nginx/mime.types")
        mime = next((p for p in places if Path(p).exists()), None)
        conf = self.tmp / "nginx.conf"
        conf.write_text(
            NGINX_CONF.format(tmp=self.tmp, port=self.port, root=self.root, mime_types=mime)
        )
        self.process = subprocess.Popen(
            [binary, "-c", str(conf), "-p", str(self.tmp)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            preexec_fn=common.die_with_parent,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"nginx stopped: {self.process.stderr.read().decode()}")
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", self.port)) == 0:
                    return self
            time.sleep(0.05)
        raise TimeoutError(f"nginx did not listen on 127.0.0.1:{self.port}")

    def __exit__(self, *exc) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGQUIT)  # graceful stop
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.tmp, ignore_errors=True)
