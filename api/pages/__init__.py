"""HTML pages and SVG maps: rendered here, served by the routers."""
