package openai

import (
	"net/http"
	"net/url"
	"strings"
)

// DefaultAzureAPIVersion is the Azure OpenAI api-version used when a
// deployment sets none and $AZURE_API_VERSION is empty: the latest
// generally available data-plane version.
const DefaultAzureAPIVersion = "2024-10-21"

// NewAzure returns a Client for an Azure OpenAI deployment. o.BaseURL is
// the resource endpoint ("https://NAME.openai.azure.com"), o.Model the
// deployment name; requests go to
// {BaseURL}/openai/deployments/{Model}/chat/completions?api-version=…
// with the key in the api-key header. Everything else, the translation and
// the error classes, is the OpenAI adapter's.
func NewAzure(o Options, apiVersion string) *Client {
	if o.Name == "" {
		o.Name = "azure"
	}
	if apiVersion == "" {
		apiVersion = DefaultAzureAPIVersion
	}
	base := strings.TrimRight(o.BaseURL, "/")
	deployment := base + "/openai/deployments/" + url.PathEscape(o.Model)
	query := "?api-version=" + url.QueryEscape(apiVersion)
	return newClient(o, deployment+"/chat/completions"+query, deployment+"/embeddings"+query, base+"/openai/models"+query,
		func(h http.Header, key string) { h.Set("Api-Key", key) })
}
