package hf

import (
	"fmt"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/lmxlab/lmxlab/models"
	"github.com/lmxlab/lmxlab/mx"
	"github.com/lmxlab/lmxlab/nn"
	"github.com/lmxlab/lmxlab/safetensors"
)

// tensorToArray converts a checkpoint tensor to a float32 (or integer) array.
func tensorToArray(t safetensors.Tensor) (*mx.Array, error) {
	if t.DType.IsFloat() {
		v, err := t.Float32s()
		if err != nil {
			return nil, err
		}
		return mx.FromSlice(v, t.Shape...), nil
	}
	v, err := t.Int64s()
	if err != nil {
		return nil, err
	}
	return mx.FromSlice(v, t.Shape...), nil
}

// rule renames checkpoint tensors matching a pattern; conv transforms the tensor into one or
// more lmxlab parameters.
type rule struct {
	re   *regexp.Regexp
	conv func(m []string, a *mx.Array) (map[string]*mx.Array, error)
}

func rename(pattern, to string) rule {
	re := regexp.MustCompile("^" + pattern + "$")
	return rule{re, func(m []string, a *mx.Array) (map[string]*mx.Array, error) {
		return map[string]*mx.Array{re.ReplaceAllString(m[0], to): a}, nil
	}}
}

// conv1D renames a GPT-2 Conv1D weight, stored (in, out), and transposes it to (out, in).
func conv1D(pattern, to string) rule {
	re := regexp.MustCompile("^" + pattern + "$")
	return rule{re, func(m []string, a *mx.Array) (map[string]*mx.Array, error) {
		return map[string]*mx.Array{re.ReplaceAllString(m[0], to): mx.Transpose(a)}, nil
	}}
}

// splitQKV splits GPT-2's fused c_attn (weights (in, 3d) or bias (3d)) into q, k and v.
func splitQKV(pattern, to string, weight bool) rule {
	re := regexp.MustCompile("^" + pattern + "$")
	return rule{re, func(m []string, a *mx.Array) (map[string]*mx.Array, error) {
		if weight {
			a = mx.Transpose(a)
		}
		n := a.Dim(0)
		if n%3 != 0 {
			return nil, fmt.Errorf("fused qkv %s has %d rows, not a multiple of 3", m[0], n)
		}
		out := map[string]*mx.Array{}
		for i, p := range []string{"q_proj", "k_proj", "v_proj"} {
			name := re.ReplaceAllString(m[0], strings.ReplaceAll(to, "PROJ", p))
			out[name] = mx.SliceAxis(a, 0, i*n/3, (i+1)*n/3)
		}
		return out, nil
	}}
}

var gpt2Rules = []rule{
	rename(`transformer\.wte\.weight`, "embed.weight"),
	rename(`transformer\.wpe\.weight`, "pos_embed.weight"),
	rename(`transformer\.h\.(\d+)\.ln_1\.(weight|bias)`, "blocks.$1.attn_norm.$2"),
	rename(`transformer\.h\.(\d+)\.ln_2\.(weight|bias)`, "blocks.$1.ffn_norm.$2"),
	splitQKV(`transformer\.h\.(\d+)\.attn\.c_attn\.weight`, "blocks.$1.attention.PROJ.weight", true),
	splitQKV(`transformer\.h\.(\d+)\.attn\.c_attn\.bias`, "blocks.$1.attention.PROJ.bias", false),
	conv1D(`transformer\.h\.(\d+)\.attn\.c_proj\.weight`, "blocks.$1.attention.o_proj.weight"),
	rename(`transformer\.h\.(\d+)\.attn\.c_proj\.bias`, "blocks.$1.attention.o_proj.bias"),
	conv1D(`transformer\.h\.(\d+)\.mlp\.c_fc\.weight`, "blocks.$1.ffn.up.weight"),
	rename(`transformer\.h\.(\d+)\.mlp\.c_fc\.bias`, "blocks.$1.ffn.up.bias"),
	conv1D(`transformer\.h\.(\d+)\.mlp\.c_proj\.weight`, "blocks.$1.ffn.down.weight"),
	rename(`transformer\.h\.(\d+)\.mlp\.c_proj\.bias`, "blocks.$1.ffn.down.bias"),
	rename(`transformer\.ln_f\.(weight|bias)`, "final_norm.$1"),
	rename(`lm_head\.weight`, "head.weight"),
}

var llamaRules = []rule{
	rename(`model\.embed_tokens\.weight`, "embed.weight"),
	rename(`model\.layers\.(\d+)\.input_layernorm\.weight`, "blocks.$1.attn_norm.weight"),
	rename(`model\.layers\.(\d+)\.post_attention_layernorm\.weight`, "blocks.$1.ffn_norm.weight"),
	rename(`model\.layers\.(\d+)\.self_attn\.(q|k|v|o)_proj\.(weight|bias)`, "blocks.$1.attention.${2}_proj.$3"),
	rename(`model\.layers\.(\d+)\.self_attn\.(q|k)_norm\.weight`, "blocks.$1.attention.${2}_norm.weight"),
	rename(`model\.layers\.(\d+)\.mlp\.gate_proj\.(weight|bias)`, "blocks.$1.ffn.gate.$2"),
	rename(`model\.layers\.(\d+)\.mlp\.up_proj\.(weight|bias)`, "blocks.$1.ffn.up.$2"),
	rename(`model\.layers\.(\d+)\.mlp\.down_proj\.(weight|bias)`, "blocks.$1.ffn.down.$2"),
	rename(`model\.norm\.weight`, "final_norm.weight"),
	rename(`lm_head\.weight`, "head.weight"),
}

func rulesFor(modelType string, cfg models.ModelConfig) []rule {
	switch modelType {
	case "gpt2":
		return gpt2Rules
	case "gemma":
		return gemmaRules
	case "gemma2", "gemma3_text":
		return gemma2Rules
	case "phi3":
		return phi3Rules(cfg)
	case "mixtral":
		return mixtralRules
	case "qwen3_moe":
		return qwen3MoERules
	case "gpt_neox":
		return neoxRules(cfg)
	case "llama4_text":
		return llama4Rules
	case "deepseek_v2", "deepseek_v3":
		return deepseekRules
	case "mamba2":
		return mamba2Rules
	case "nemotron_h":
		return nemotronHRules(cfg)
	case "falcon_h1":
		return falconH1Rules
	case "jamba":
		return jambaRules
	case "qwen3_next":
		return qwen3NextRules
	}
	return llamaRules
}

// ConvertWeights maps the tensors of a checkpoint of modelType, whose config maps to cfg, to
// lmxlab parameter names. Tensors no rule matches are returned as unmapped (the caller decides
// whether that is an error).
func ConvertWeights(modelType string, cfg models.ModelConfig, tensors map[string]*mx.Array) (map[string]*mx.Array, []string, error) {
	out := map[string]*mx.Array{}
	var unmapped []string
	rules := rulesFor(modelType, cfg)
	names := make([]string, 0, len(tensors))
	for n := range tensors {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		matched := false
		for _, r := range rules {
			if m := r.re.FindStringSubmatch(name); m != nil {
				conv, err := r.conv(m, tensors[name])
				if err != nil {
					return nil, nil, err
				}
				for k, v := range conv {
					out[k] = v
				}
				matched = true
				break
			}
		}
		if !matched {
			unmapped = append(unmapped, name)
		}
	}
	return out, unmapped, nil
}

// Load builds the model of a Hugging Face checkpoint folder (config.json and one or more
// *.safetensors files) with its weights.
func Load(dir string) (*models.LanguageModel, error) {
	cfg, modelType, err := ReadConfig(dir)
	if err != nil {
		return nil, err
	}
	files, err := filepath.Glob(filepath.Join(dir, "*.safetensors"))
	if err != nil {
		return nil, err
	}
	tensors := map[string]*mx.Array{}
	for _, f := range files {
		if filepath.Base(f) == "reference.safetensors" {
			continue
		}
		st, err := safetensors.ReadFile(f)
		if err != nil {
			return nil, err
		}
		for _, n := range st.Names() {
			t, err := st.Tensor(n)
			if err != nil {
				return nil, err
			}
			if tensors[n], err = tensorToArray(t); err != nil {
				return nil, fmt.Errorf("%s: tensor %q: %w", f, n, err)
			}
		}
	}
	if len(tensors) == 0 {
		return nil, fmt.Errorf("%s: no model *.safetensors files", dir)
	}
	params, unmapped, err := ConvertWeights(modelType, cfg, tensors)
	if err != nil {
		return nil, err
	}
	if cfg.TieEmbeddings {
		delete(params, "head.weight") // a tied checkpoint may still store the shared matrix
	}
	if len(unmapped) > 0 {
		return nil, fmt.Errorf("%s: checkpoint tensors with no lmxlab parameter: %s", dir, strings.Join(unmapped, ", "))
	}
	m, err := models.Build(cfg, nil) // every parameter is replaced below
	if err != nil {
		return nil, err
	}
	if err := adaptModel(modelType, dir, m); err != nil {
		return nil, err
	}
	var missing []string
	for _, p := range nn.Parameters(m) {
		if _, ok := params[p.Name]; !ok {
			missing = append(missing, p.Name)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("%s: checkpoint lacks parameters: %s", dir, strings.Join(missing, ", "))
	}
	if err := nn.Update(m, params); err != nil {
		return nil, fmt.Errorf("%s: %w", dir, err)
	}
	vals := nn.Values(nn.Parameters(m))
	mx.Eval(vals...)
	return m, nil
}
