package faults_test

import (
	"os"
	"testing"

	"github.com/waybill/waybill/internal/testbroker"
)

// waybillBinary is the broker binary, built once for the package (ProcessNode tests).
var waybillBinary string

func TestMain(m *testing.M) { os.Exit(testbroker.RunWithBinary(m, &waybillBinary)) }
