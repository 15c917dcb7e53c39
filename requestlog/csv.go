package requestlog

import (
	"encoding/csv"
	"io"
	"strconv"
	"strings"
	"time"
)

// csvHeader names the columns WriteCSV writes, in order.
var csvHeader = []string{"id", "time", "api", "group", "stream", "status", "total_ms", "cache", "tier", "degraded",
	"cost_usd", "attempts", "deployment", "deployments", "groups", "classes", "tags", "error", "upstream_errors"}

// WriteCSV writes recs as CSV: a header row, then one row a record. The
// columns are id, time (RFC 3339, UTC), api, group, stream, status,
// total_ms, cache, tier, degraded, cost_usd ("" when unknown), attempts
// (how many), deployment (the one that answered, "" when none did),
// deployments (those tried), groups, classes (of the failed attempts),
// tags, error and upstream_errors ("deployment: message" each). A list is
// joined by "; " in its one cell. The prompt and answer are left out: a
// row is for a spreadsheet; the JSON export keeps every field.
func WriteCSV(w io.Writer, recs []Record) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(csvHeader); err != nil {
		return err
	}
	for _, r := range recs {
		if err := cw.Write(csvRow(r)); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

func csvRow(r Record) []string {
	var answered string
	var deployments, classes, errs []string
	for _, a := range r.Attempts {
		deployments = append(deployments, a.Deployment)
		if a.Class == "" {
			answered = a.Deployment
		} else {
			classes = append(classes, a.Class)
		}
		if a.Error != "" {
			errs = append(errs, a.Deployment+": "+a.Error)
		}
	}
	cost := ""
	if r.CostUSD != nil {
		cost = strconv.FormatFloat(*r.CostUSD, 'f', -1, 64)
	}
	return []string{
		cell(r.ID), r.Time.UTC().Format(time.RFC3339Nano), cell(r.API), cell(r.Group), strconv.FormatBool(r.Stream),
		strconv.Itoa(r.Status), strconv.FormatInt(r.TotalMS, 10), cell(r.Cache), cell(r.Tier), cell(r.Degraded),
		cost, strconv.Itoa(len(r.Attempts)), cell(answered), list(deployments), list(r.Groups), list(classes),
		list(r.Tags), cell(r.Error), list(errs),
	}
}

func list(s []string) string { return cell(strings.Join(s, "; ")) }

// cell guards text against formula injection: a spreadsheet runs a cell
// that starts with =, +, - or @ as a formula, and an upstream's error text
// or a tag is anyone's to write. Such a cell gets a leading apostrophe,
// which spreadsheets show as text (OWASP's advice for CSV exports).
func cell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
