//go:build ignore

// Appicon draws Detour's app icon, build/appicon.png: a rounded square in
// an indigo-to-sky gradient with a white bent arrow (a detour), 1024x1024,
// anti-aliased with golang.org/x/image/vector.
//
//	go run build/appicon.go build/appicon.png
package main

import (
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"log"
	"math"
	"os"

	"golang.org/x/image/vector"
)

const size = 1024

const k = 0.5522847498 // cubic Bézier handle length for a quarter circle

// arc appends a quarter circle around (cx, cy) of radius r from angle a0 to
// a1 (radians, |a1-a0| = π/2), starting at the current point.
func arc(z *vector.Rasterizer, cx, cy, r, a0, a1 float64) {
	x0, y0 := cx+r*math.Cos(a0), cy+r*math.Sin(a0)
	x1, y1 := cx+r*math.Cos(a1), cy+r*math.Sin(a1)
	s := k * r
	if a1 < a0 {
		s = -s
	}
	// tangents: derivative of (cos, sin) is (-sin, cos)
	c1x, c1y := x0-s*math.Sin(a0), y0+s*math.Cos(a0)
	c2x, c2y := x1+s*math.Sin(a1), y1-s*math.Cos(a1)
	z.CubeTo(float32(c1x), float32(c1y), float32(c2x), float32(c2y), float32(x1), float32(y1))
}

// roundRect adds a rounded rectangle to z.
func roundRect(z *vector.Rasterizer, x0, y0, x1, y1, r float64) {
	z.MoveTo(float32(x0+r), float32(y0))
	z.LineTo(float32(x1-r), float32(y0))
	arc(z, x1-r, y0+r, r, -math.Pi/2, 0)
	z.LineTo(float32(x1), float32(y1-r))
	arc(z, x1-r, y1-r, r, 0, math.Pi/2)
	z.LineTo(float32(x0+r), float32(y1))
	arc(z, x0+r, y1-r, r, math.Pi/2, math.Pi)
	z.LineTo(float32(x0), float32(y0+r))
	arc(z, x0+r, y0+r, r, math.Pi, 3*math.Pi/2)
	z.ClosePath()
}

func main() {
	img := image.NewRGBA(image.Rect(0, 0, size, size))

	// Background: a diagonal indigo-to-sky gradient in a rounded square.
	grad := image.NewRGBA(img.Bounds())
	a, b := [3]float64{67, 56, 202}, [3]float64{14, 165, 233}
	for y := 0; y < size; y++ {
		for x := 0; x < size; x++ {
			t := float64(x+y) / (2 * size)
			grad.SetRGBA(x, y, color.RGBA{uint8(a[0] + t*(b[0]-a[0])), uint8(a[1] + t*(b[1]-a[1])), uint8(a[2] + t*(b[2]-a[2])), 255})
		}
	}
	bg := vector.NewRasterizer(size, size)
	roundRect(bg, 64, 64, 960, 960, 200)
	bg.Draw(img, img.Bounds(), grad, image.Point{})

	// The arrow: up from the bottom, bending right, arrowhead right.
	dx, dy := -40.0, 10.0
	const w, R = 120.0, 190.0
	xv, yb, yTurn, yh, xEnd, xTip, head := 360.0, 800.0, 500.0, 310.0, 610.0, 800.0, 165.0
	cx, cy := xv+R, yTurn
	z := vector.NewRasterizer(size, size)
	p := func(x, y float64) (float32, float32) { return float32(x + dx), float32(y + dy) }
	move := func(x, y float64) { z.MoveTo(p(x, y)) }
	line := func(x, y float64) { z.LineTo(p(x, y)) }
	arcT := func(cx, cy, r, a0, a1 float64) { arc(z, cx+dx, cy+dy, r, a0, a1) }
	move(xv-w/2, yb)
	line(xv-w/2, yTurn)
	arcT(cx, cy, R+w/2, math.Pi, 3*math.Pi/2)
	line(xEnd, yh-w/2)
	line(xEnd, yh-head)
	line(xTip, yh)
	line(xEnd, yh+head)
	line(xEnd, yh+w/2)
	line(cx, yh+w/2)
	arcT(cx, cy, R-w/2, 3*math.Pi/2, math.Pi)
	line(xv+w/2, yb)
	arcT(xv, yb, w/2, 0, math.Pi/2)
	arcT(xv, yb, w/2, math.Pi/2, math.Pi)
	z.ClosePath()
	// Shadow first, then the arrow.
	shadow := image.NewRGBA(img.Bounds())
	z.Draw(shadow, shadow.Bounds(), image.NewUniform(color.RGBA{20, 20, 60, 70}), image.Point{})
	draw.Draw(img, img.Bounds().Add(image.Pt(0, 14)), shadow, image.Point{}, draw.Over)
	z.Draw(img, img.Bounds(), image.NewUniform(color.White), image.Point{})

	if len(os.Args) != 2 {
		log.Fatal("usage: go run build/appicon.go OUT.png")
	}
	f, err := os.Create(os.Args[1])
	if err != nil {
		log.Fatal(err)
	}
	if err := png.Encode(f, img); err != nil {
		log.Fatal(err)
	}
	if err := f.Close(); err != nil {
		log.Fatal(err)
	}
}
