// Command yamlread reads a YAML stream the way Helm's Kubernetes client does and
// prints each document as one line of JSON: the test oracle for "what Helm reads is
// what the post-renderer wrote".
//
// Documents are split by k8s.io/apimachinery's YAMLReader (the splitter of Helm's
// resource builder, kubectl and kubeconform) and converted with sigs.k8s.io/yaml's
// YAMLToJSON (go-yaml v2 resolution: "0921" plain is a number). Empty documents are
// skipped, as Helm skips them. With -strict, duplicate keys are an error too
// (YAMLToJSONStrict). On the first document Go cannot read, it prints
// "document N: <error>" on stderr and exits 1; a read error exits 2.
package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"

	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

func main() {
	strict := flag.Bool("strict", false, "reject duplicate keys (sigs.k8s.io/yaml YAMLToJSONStrict)")
	flag.Parse()
	toJSON := yaml.YAMLToJSON
	if *strict {
		toJSON = yaml.YAMLToJSONStrict
	}
	reader := utilyaml.NewYAMLReader(bufio.NewReader(os.Stdin))
	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()
	number := 0
	for {
		doc, err := reader.Read()
		if err == io.EOF {
			return
		}
		if err != nil {
			out.Flush()
			fmt.Fprintf(os.Stderr, "read: %v\n", err)
			os.Exit(2)
		}
		number++
		data, err := toJSON(doc)
		if err != nil {
			out.Flush()
			fmt.Fprintf(os.Stderr, "document %d: %v\n", number, err)
			os.Exit(1)
		}
		if bytes.Equal(bytes.TrimSpace(data), []byte("null")) {
			continue // an empty document or one holding only comments
		}
		out.Write(data)
		out.WriteByte('\n')
	}
}
