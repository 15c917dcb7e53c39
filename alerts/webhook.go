package alerts

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"time"
)

// EnvSlackWebhook is the environment variable whose URL, when set, gets
// every alert as a Slack message, as LiteLLM's alerting: ["slack"] does.
// (A detour.alerts config key is to come.)
const EnvSlackWebhook = "SLACK_WEBHOOK_URL"

// Webhook defaults.
const (
	// DefaultWebhookTimeout bounds one delivery: 10 seconds.
	DefaultWebhookTimeout = 10 * time.Second
	// DefaultWebhookQueue is how many alerts wait for delivery: 100.
	// Past it new ones are dropped (and logged) rather than block.
	DefaultWebhookQueue = 100
)

// WebhookOptions configure a Webhook. Zero fields take the defaults.
type WebhookOptions struct {
	// Client posts the messages. Nil means http.DefaultClient.
	Client *http.Client
	// Timeout bounds one delivery. 0 means DefaultWebhookTimeout.
	Timeout time.Duration
	// Queue is how many alerts may wait. 0 means DefaultWebhookQueue.
	Queue int
	// Logger hears of failed and dropped deliveries. Nil means
	// slog.Default().
	Logger *slog.Logger
}

// Webhook posts each alert, fired and resolved, as Slack-compatible JSON
// ({"text": "…"}) to a URL. Notify only queues: Run delivers, one at a
// time, so a slow receiver never holds up an evaluation.
type Webhook struct {
	url   string
	opts  WebhookOptions
	queue chan Alert
}

// NewWebhook returns a Webhook posting to url. Call Run to deliver.
func NewWebhook(url string, o WebhookOptions) *Webhook {
	if o.Client == nil {
		o.Client = http.DefaultClient
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultWebhookTimeout
	}
	if o.Queue <= 0 {
		o.Queue = DefaultWebhookQueue
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return &Webhook{url: url, opts: o, queue: make(chan Alert, o.Queue)}
}

// Notify queues a for delivery, or drops it when the queue is full.
func (w *Webhook) Notify(a Alert) {
	select {
	case w.queue <- a:
	default:
		w.opts.Logger.Warn("alert webhook: queue full, alert dropped", "alert", a.ID, "state", a.State)
	}
}

// Run delivers queued alerts until ctx is done.
func (w *Webhook) Run(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case a := <-w.queue:
			if err := w.post(ctx, a); err != nil {
				w.opts.Logger.Warn("alert webhook: not delivered", "alert", a.ID, "state", a.State, "err", err)
			}
		}
	}
}

// SlackText is the message text for a: what happened, why, and the fix.
func SlackText(a Alert) string {
	var b bytes.Buffer
	if a.State == Firing {
		fmt.Fprintf(&b, ":rotating_light: Detour alert firing: %s (%s)\n%s", a.Rule, a.Subject, a.Reason)
		if a.Fix != "" {
			fmt.Fprintf(&b, "\nFix: `%s`", a.Fix)
		}
	} else {
		fmt.Fprintf(&b, ":white_check_mark: Detour alert resolved: %s (%s), firing since %s",
			a.Rule, a.Subject, a.FiredAt.UTC().Format(time.RFC3339))
	}
	return b.String()
}

func (w *Webhook) post(ctx context.Context, a Alert) error {
	body, err := json.Marshal(struct {
		Text string `json:"text"`
	}{SlackText(a)})
	if err != nil {
		return fmt.Errorf("encode: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, w.opts.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.url, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := w.opts.Client.Do(req)
	if err != nil {
		// The URL is a secret (Slack's carries its token): keep it out of
		// the log.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return fmt.Errorf("post: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("post: receiver answered %s", resp.Status)
	}
	return nil
}
