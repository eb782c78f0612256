// x509judge: Go's crypto/x509 as an outside judge of what the CA issues.
//
// Usage: go run x509judge.go ROOT.pem INTERMEDIATE.pem LEAF.pem EKU CRL.der...
// Parses every certificate and CRL strictly (Go refuses much that other stacks accept), verifies
// the leaf's chain to the root with the given extended key usage (server, client or any), checks
// each CRL's signature against its issuer, and prints "JUDGE OK" or why not (exit 1).
package main

import (
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
)

func cert(path string) *x509.Certificate {
	b, err := os.ReadFile(path)
	if err != nil {
		fail("read %s: %v", path, err)
	}
	blk, _ := pem.Decode(b)
	if blk == nil || blk.Type != "CERTIFICATE" {
		fail("%s: no PEM certificate", path)
	}
	c, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		fail("%s: %v", path, err)
	}
	return c
}

func fail(format string, a ...interface{}) {
	fmt.Printf("JUDGE FAIL: "+format+"\n", a...)
	os.Exit(1)
}

func main() {
	if len(os.Args) < 5 {
		fail("usage: x509judge ROOT INTERMEDIATE LEAF EKU [CRL.der...]")
	}
	root, inter, leaf := cert(os.Args[1]), cert(os.Args[2]), cert(os.Args[3])
	eku := map[string]x509.ExtKeyUsage{
		"server": x509.ExtKeyUsageServerAuth,
		"client": x509.ExtKeyUsageClientAuth,
		"any":    x509.ExtKeyUsageAny,
	}[os.Args[4]]
	roots, inters := x509.NewCertPool(), x509.NewCertPool()
	roots.AddCert(root)
	inters.AddCert(inter)
	opts := x509.VerifyOptions{Roots: roots, Intermediates: inters, KeyUsages: []x509.ExtKeyUsage{eku}}
	if len(leaf.DNSNames) > 0 {
		opts.DNSName = leaf.DNSNames[0]
	}
	if _, err := leaf.Verify(opts); err != nil {
		fail("leaf chain: %v", err)
	}
	if _, err := inter.Verify(x509.VerifyOptions{Roots: roots, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}); err != nil {
		fail("intermediate chain: %v", err)
	}
	for _, path := range os.Args[5:] {
		b, err := os.ReadFile(path)
		if err != nil {
			fail("read %s: %v", path, err)
		}
		crl, err := x509.ParseRevocationList(b)
		if err != nil {
			fail("%s: %v", path, err)
		}
		issuer := inter
		if crl.Issuer.String() == root.Subject.String() {
			issuer = root
		}
		if err := crl.CheckSignatureFrom(issuer); err != nil {
			fail("%s: signature: %v", path, err)
		}
	}
	fmt.Println("JUDGE OK")
}
