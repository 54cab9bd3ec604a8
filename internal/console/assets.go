package console

import (
	"embed"
	"io/fs"
	"net/http"
)

// assets are the pages, style sheet and scripts, served as they are: no build step.
//
//go:embed assets
var assets embed.FS

// page serves one embedded HTML page.
func page(name string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		data, err := assets.ReadFile("assets/" + name)
		if err != nil {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-cache")
		// Nothing on the pages comes from elsewhere; say so to the browser.
		w.Header().Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-src 'self'")
		_, _ = w.Write(data)
	}
}

// assetHandler serves assets/ under /assets/.
func assetHandler() http.Handler {
	sub, err := fs.Sub(assets, "assets")
	if err != nil {
		panic(err) // the embedded tree always has assets/
	}
	return http.StripPrefix("/assets/", http.FileServerFS(sub))
}
