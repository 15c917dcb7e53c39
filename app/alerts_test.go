package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/detour-gateway/detour/alerts"
	"github.com/detour-gateway/detour/router/provider/openai/openaitest"
)

// TestAlertsThroughTheGateway sends a request a provider refuses for its
// key through a real gateway: the alert fires at the next evaluation and
// GET /api/v1/alerts shows it, with the command that rotates the key.
func TestAlertsThroughTheGateway(t *testing.T) {
	up := openaitest.New(t, openaitest.Status(http.StatusUnauthorized,
		`{"error":{"message":"Incorrect API key provided","type":"invalid_request_error","code":"invalid_api_key"}}`))
	gw := metricsGateway(t, fmt.Sprintf(`model_list:
  - model_name: main
    litellm_params: {model: openai/gpt-4o, api_base: %q}
    model_info: {id: a}
`, up.URL))
	if _, err := gw.client.Chat.Completions.New(context.Background(), params("main")); err == nil {
		t.Fatal("the refused key answered")
	}
	gw.gw.EvaluateAlerts()

	resp, err := http.Get(strings.TrimSuffix(gw.url, "/v1") + "/api/v1/alerts")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body alerts.Snapshot
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK || len(body.Firing) != 1 || body.Firing[0].ID != "auth_failure:openai" ||
		body.Firing[0].Fix != "detour keys set openai" || !strings.Contains(body.Firing[0].Reason, "HTTP 401") {
		t.Fatalf("%d %+v, want the auth failure of openai firing", resp.StatusCode, body)
	}
}
